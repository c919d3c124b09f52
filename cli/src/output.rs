//! Command output on standard output. Rust ignores SIGPIPE, so a reader that goes away (`tidemark topic describe t |
//! head -1`) makes writes fail with a broken pipe instead of ending the process: commands write with [`out!`], which
//! returns that error, and `main` ends quietly on it ([`is_closed_pipe`]), as `cat` would.

/// `println!` that returns the write's error instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use out;

/// Whether `error` is standard output's reader having gone away.
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
