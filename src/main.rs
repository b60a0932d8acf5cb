use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    ixp_portal::allocator::limit_arenas();
    ixp_portal::db::sqlite_setup::before_first_connection();
    let cli = ixp_portal::cli::Cli::parse();
    match ixp_portal::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
