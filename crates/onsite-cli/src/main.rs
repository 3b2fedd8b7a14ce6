//! `onsite`: the headless demo of the product. `onsite demo` walks one Haier repair job from the
//! dispatcher's order to the customer's signature and prints the service record summary.

mod demo;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "onsite",
    version,
    about = "Onsite field-service: headless demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Walk a repair job end to end and print what the dispatcher receives.
    Demo {
        /// Language of the printed record: en or zh-CN.
        #[arg(long, default_value = "en")]
        lang: String,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo { lang } => demo::run(&lang, &mut std::io::stdout().lock()),
    }
}
