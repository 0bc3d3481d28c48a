/** Yes/no questions before destructive commands (prune). */
import type { CliContext } from './context.js';

/** Asks a yes/no question on stdin, as Docker's prompt does (anything but y/yes is no). */
export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.stdout.write(question);
  const answer = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) done();
    };
    const done = () => {
      ctx.stdin.off('data', onData);
      ctx.stdin.off('end', done);
      ctx.stdin.pause();
      resolve(buf.split('\n')[0] ?? '');
    };
    ctx.stdin.on('data', onData);
    ctx.stdin.on('end', done);
  });
  if (!ctx.stdin.isTTY) ctx.out('');
  return ['y', 'yes'].includes(answer.trim().toLowerCase());
}
