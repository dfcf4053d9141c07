//! `q2c`: see `q2c --help`.

use clap::Parser;

// The API allocates many small strings per request (owned TMF types); mimalloc cuts the time
// glibc's allocator took in the POST profile (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = q2c::cli::Cli::parse();
    q2c::telemetry::init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(q2c::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // `q2c … | head`: the reader went away; nothing is wrong, end quietly.
        Err(e) if q2c::cli::is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
