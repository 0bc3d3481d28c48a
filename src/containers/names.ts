/**
 * Random container names in Docker's style: an adjective and the surname of a notable
 * scientist or engineer, joined by an underscore ("eager_hopper").
 */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful', 'bold', 'brave', 'busy',
  'charming', 'clever', 'compassionate', 'competent', 'confident', 'cool', 'cranky', 'crazy', 'determined',
  'distracted', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elegant', 'epic', 'exciting', 'fervent', 'festive',
  'flamboyant', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted', 'goofy', 'gracious', 'great',
  'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry', 'infallible', 'inspiring', 'intelligent', 'interesting',
  'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'musing', 'mystifying',
  'naughty', 'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic', 'peaceful', 'pensive',
  'practical', 'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic', 'serene', 'sharp', 'silly',
  'sleepy', 'stoic', 'strange', 'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant',
  'vigilant', 'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];

const SURNAMES = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bartik', 'bell', 'blackwell',
  'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain', 'brown', 'cannon', 'carson', 'cerf', 'chandrasekhar',
  'clarke', 'curie', 'darwin', 'dijkstra', 'dirac', 'easley', 'einstein', 'elion', 'engelbart', 'euclid', 'euler',
  'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall', 'hamilton',
  'hawking', 'heisenberg', 'hertz', 'hodgkin', 'hoover', 'hopper', 'hypatia', 'jackson', 'jennings', 'johnson',
  'kalam', 'kepler', 'khorana', 'knuth', 'kowalevski', 'lamarr', 'lamport', 'leakey', 'liskov', 'lovelace',
  'lumiere', 'mccarthy', 'mcclintock', 'meitner', 'mendel', 'merkle', 'mirzakhani', 'morse', 'napier', 'newton',
  'noether', 'pascal', 'pasteur', 'payne', 'perlman', 'pike', 'planck', 'ramanujan', 'ride', 'ritchie', 'rosalind',
  'sammet', 'shannon', 'shockley', 'sinoussi', 'stonebraker', 'swanson', 'tesla', 'thompson', 'torvalds', 'turing',
  'volhard', 'wiles', 'williams', 'wing', 'wright', 'wu', 'yalow', 'yonath', 'zhukovsky',
];

/** A random "adjective_surname" name. */
export function randomName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
}
