//! Running the built `lexigram` binary in a clean environment, with `assert_cmd` and
//! `predicates` doing the asserting.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use assert_cmd::assert::OutputAssertExt;
use predicates::str::contains;

/// What one run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    output: Output,
}

impl Run {
    /// What a finished process printed (for runs started by hand, e.g. with a piped stdin).
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            output,
        }
    }

    /// Asserts exit status 0 (assert_cmd's `success`, which prints both streams when it
    /// fails) and returns stdout.
    pub fn ok(&self) -> &str {
        self.output.clone().assert().success();
        &self.stdout
    }

    /// Asserts a non-zero exit with an `error: ` line on stderr and returns stderr.
    pub fn failed(&self) -> &str {
        self.output
            .clone()
            .assert()
            .failure()
            .stderr(contains("error: "));
        &self.stderr
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Variables of the test's environment the binary must not inherit (they configure it).
fn inherited_config() -> impl Iterator<Item = String> {
    std::env::vars().map(|(key, _)| key).filter(|key| {
        key.starts_with("LEX_SQL__")
            || key == "DATABASE_URL"
            || key == "LEX_CONFIG_FILE"
            || key == "LEX_ENV"
            || key.starts_with("LEX_LOG")
            || key == "NO_COLOR"
    })
}

/// The binary, in `dir`, with no configuration inherited from the environment.
pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lexigram"));
    cmd.current_dir(dir).args(args);
    for key in inherited_config() {
        cmd.env_remove(key);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The binary as an `assert_cmd` command, in `dir`, with no configuration inherited from the
/// environment: `cli(dir).args(["db", "check"]).assert().success()`.
pub fn cli(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_lexigram"));
    cmd.current_dir(dir);
    for key in inherited_config() {
        cmd.env_remove(key);
    }
    cmd
}

/// Runs the binary (through [`cli`]) and waits for it.
pub fn lexigram(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = cli(dir);
    cmd.args(args).envs(env.iter().copied());
    Run::from(cmd.output().expect("run lexigram"))
}

/// Starts the binary without waiting.
pub fn spawn(dir: &Path, args: &[&str]) -> Child {
    command(dir, args, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lexigram")
}

/// Waits for a spawned run.
pub fn wait(child: Child) -> Run {
    Run::from(child.wait_with_output().expect("wait for lexigram"))
}
