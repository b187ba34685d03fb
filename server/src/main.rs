use server::config::{Config, LogFormat};
use server::policy_file::load_policy;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
Usage: server [--config FILE] [--check-config]

  --config FILE    read settings from a TOML file (also STEPUP_CONFIG_FILE);
                   environment variables override it
  --check-config   print the effective configuration, secrets redacted, and exit
  --help           print this help
";

/// The process's allocator. Under load, glibc's malloc took about a quarter of the server's
/// time in SSR renders (malloc, free and chunk consolidation); see BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status for invalid command-line arguments or configuration.
const EXIT_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let arguments = match Arguments::parse(std::env::args().skip(1)) {
        Ok(arguments) => arguments,
        Err(message) => {
            let _ = write!(std::io::stderr(), "error: {message}\n\n{USAGE}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if arguments.help {
        let _ = write!(std::io::stdout(), "{USAGE}");
        return ExitCode::SUCCESS;
    }

    let config_file = arguments
        .config_file
        .or_else(|| std::env::var_os("STEPUP_CONFIG_FILE").map(PathBuf::from));
    let config = match Config::load(config_file.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if arguments.check_config {
        return check_config(&config);
    }

    init_logging(config.log_format);
    match server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Prints the effective configuration and a summary of the policy it loads.
fn check_config(config: &Config) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{config:#?}");
    match load_policy(config.policy_file.as_deref()) {
        Ok(policy) => {
            let _ = writeln!(
                stdout,
                "policy: {} rules, acr scheme {:?}",
                policy.rules.len(),
                policy.scheme
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}

#[derive(Debug, Default)]
struct Arguments {
    config_file: Option<PathBuf>,
    check_config: bool,
    help: bool,
}

impl Arguments {
    fn parse(mut arguments: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Self::default();
        while let Some(argument) = arguments.next() {
            match argument.as_str() {
                "--config" => {
                    let path = arguments.next().ok_or("--config needs a file path")?;
                    parsed.config_file = Some(PathBuf::from(path));
                }
                "--check-config" => parsed.check_config = true,
                "--help" | "-h" => parsed.help = true,
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(parsed)
    }
}
