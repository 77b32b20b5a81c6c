//! The `lexigram` binary; everything lives in the `lexigram_cli` library.

fn main() -> std::process::ExitCode {
    lexigram_cli::main()
}
