//! Gives the installed `blockchain` binary a second name, `My blockchain`, which is what the
//! Dockerfile's `CMD [ "My blockchain" ]` runs.
//!
//! Cargo cannot name a binary target `My blockchain` (rustc rejects the space in the crate
//! name), and `cargo install` only installs binary targets, so this build script puts a
//! symlink `My blockchain -> blockchain` into the directory `cargo install` installs to
//! ($CARGO_INSTALL_ROOT/bin, else $CARGO_HOME/bin); `cargo install` then puts `blockchain`
//! next to it. It does so only for release builds (what `cargo install` builds) and only for an
//! install directory outside $HOME (the rust images' /usr/local/cargo), so a developer's own
//! ~/.cargo/bin is left alone. See README.md.

use std::env;
use std::path::PathBuf;

const ALIAS: &str = "My blockchain";
const TARGET: &str = "blockchain";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_INSTALL_ROOT");
    println!("cargo:rerun-if-env-changed=CARGO_HOME");

    if env::var("PROFILE").as_deref() != Ok("release") {
        return;
    }
    let root = match env::var_os("CARGO_INSTALL_ROOT").or_else(|| env::var_os("CARGO_HOME")) {
        Some(r) if !r.is_empty() => PathBuf::from(r),
        _ => return,
    };
    if let Some(home) = env::var_os("HOME").filter(|h| !h.is_empty() && h != "/") {
        if root.starts_with(PathBuf::from(home)) {
            return;
        }
    }
    link(&root.join("bin"));
}

#[cfg(unix)]
fn link(bin: &std::path::Path) {
    let alias = bin.join(ALIAS);
    let result = std::fs::create_dir_all(bin).and_then(|_| {
        match std::fs::read_link(&alias) {
            Ok(t) if t.as_os_str() == TARGET => return Ok(()),
            Ok(_) => std::fs::remove_file(&alias)?,
            Err(_) => {}
        }
        std::os::unix::fs::symlink(TARGET, &alias)
    });
    if let Err(e) = result {
        println!("cargo:warning=could not link {}: {}", alias.display(), e);
    }
}

#[cfg(not(unix))]
fn link(_bin: &std::path::Path) {}
