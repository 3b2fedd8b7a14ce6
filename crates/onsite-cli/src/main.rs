//! `onsite`: the headless demo of the product. `onsite demo` starts a relay on 127.0.0.1 with a
//! temporary database and walks a dispatcher and two technicians through a day: orders created
//! and assigned, a Haier repair job completed offline and signed, a concurrent dispatcher edit,
//! reconnection, and what the dispatcher receives.

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
    /// Run the whole offline-completion story against a real relay on 127.0.0.1.
    Demo {
        /// Language of the printed record: en or zh-CN.
        #[arg(long, default_value = "en")]
        lang: String,
        /// Also write the signed service record (HTML) to this file.
        #[arg(long)]
        record_html: Option<std::path::PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo { lang, record_html } => rt.block_on(demo::run(
            &lang,
            record_html.as_deref(),
            &mut std::io::stdout().lock(),
        )),
    }
}
