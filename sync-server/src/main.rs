//! `onsite-relay`: serve the relay, manage accounts and tokens, seed a demo company.
//!
//! Settings are layered by [`Config::layered`]: defaults → TOML file (`--config`) → environment
//! (`ONSITE_RELAY_*`) → flags. Account policy lives in [`accounts`]; this file only parses and
//! prints.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use onsite_relay::accounts;
use onsite_relay::api::now_ms;
use onsite_relay::config::Overrides;
use onsite_relay::{Config, RelayStorage};
use onsite_wire::Role;

#[derive(Parser)]
#[command(name = "onsite-relay", version, about = "The Onsite relay server")]
struct Cli {
    /// TOML settings file (keys: listen, database, token_ttl_hours, max_body_bytes,
    /// max_doc_bytes, max_docs_per_response, log_format, tls_cert, tls_key, trusted_proxies, …;
    /// table `[outbox]`: webhook retries and the customer-message sender, see docs/webhooks.md;
    /// TLS and proxies: docs/deploy.md).
    #[arg(long, global = true, env = "ONSITE_RELAY_CONFIG")]
    config: Option<PathBuf>,
    /// SQLite database file, or a `postgres://…` URL (several relay instances on one database).
    #[arg(long, global = true, env = "ONSITE_RELAY_DATABASE")]
    database: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve /healthz and /api/v1.
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Service centres: each keeps its users and documents from every other centre's.
    #[command(subcommand)]
    Centre(CentreCommand),
    /// Manage API tokens and sign-in tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Signed webhooks for ERP/CRM and their delivery log.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Technician certificates (一证件): withdraw one, or print its signed public link.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Back up the database into a new file while relays keep serving it: SQLite, a checked
    /// copy of one moment; PostgreSQL, `pg_dump --format=custom` (needs PostgreSQL's client
    /// programs). Attachments are rows of the database, so they are in it. See docs/deploy.md.
    Backup {
        /// The backup file to write (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into the database (stop every relay on it first; PostgreSQL: into an
    /// empty database), then give the database a new epoch, so every device re-reads its feed and
    /// sends again what the backup lacks. Without --from only the epoch is renewed: run that
    /// after restoring by other means (a volume snapshot, pg_restore by hand).
    Restore {
        /// A file written by `onsite-relay backup`.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// Create a demo company: admin, dispatcher `disp`, technicians `tech.a` and `tech.b`,
    /// reference documents, profiles, ledgers and a day of orders.
    Seed {
        /// A file whose first line is the password of every demo account. Without it the
        /// password comes from `ONSITE_RELAY_SEED_PASSWORD`, else from stdin — never from the
        /// command line, where every user of the machine can read it.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// How many orders to create.
        #[arg(long, default_value_t = 8)]
        orders: u32,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ONSITE_RELAY_LISTEN")]
    listen: Option<String>,
    #[arg(long, env = "ONSITE_RELAY_TOKEN_TTL_HOURS")]
    token_ttl_hours: Option<u64>,
    #[arg(long, env = "ONSITE_RELAY_MAX_BODY_BYTES")]
    max_body_bytes: Option<u64>,
    #[arg(long, env = "ONSITE_RELAY_MAX_DOC_BYTES")]
    max_doc_bytes: Option<u64>,
    #[arg(long, env = "ONSITE_RELAY_MAX_DOCS_PER_RESPONSE")]
    max_docs_per_response: Option<u32>,
    /// `text` or `json`.
    #[arg(long, env = "ONSITE_RELAY_LOG_FORMAT")]
    log_format: Option<String>,
    /// Password checks (Argon2id, ≈ 19 MiB each) running at once.
    #[arg(long, env = "ONSITE_RELAY_MAX_CONCURRENT_PASSWORD_CHECKS")]
    max_concurrent_password_checks: Option<u32>,
    /// How long a sign-in waits for a password-check turn before `relay.busy`, seconds.
    #[arg(long, env = "ONSITE_RELAY_SIGN_IN_WAIT_SECS")]
    sign_in_wait_secs: Option<u64>,
    /// Requests handled at once (push streams excepted).
    #[arg(long, env = "ONSITE_RELAY_MAX_CONCURRENT_REQUESTS")]
    max_concurrent_requests: Option<u32>,
    /// Time limit of a request (push streams excepted), seconds.
    #[arg(long, env = "ONSITE_RELAY_REQUEST_TIMEOUT_SECS")]
    request_timeout_secs: Option<u64>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. Reloaded when it changes.
    #[arg(long, env = "ONSITE_RELAY_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "ONSITE_RELAY_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Reverse proxies whose X-Forwarded-For names the client, comma-separated IPs.
    #[arg(long, env = "ONSITE_RELAY_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Option<Vec<std::net::IpAddr>>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account.
    Add {
        user_id: String,
        #[arg(long)]
        role: Role,
        /// Display name (defaults to the user id).
        #[arg(long)]
        name: Option<String>,
        /// The service centre the account belongs to (an admin's reaches every centre).
        #[arg(long, default_value = onsite_relay::storage::DEFAULT_CENTRE)]
        centre: String,
        /// A file whose first line is the password; without it `ONSITE_RELAY_PASSWORD`, else stdin.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Disable an account and revoke its tokens.
    Disable { user_id: String },
    /// Enable a disabled account.
    Enable { user_id: String },
    /// Set a new password and revoke the account's tokens.
    ResetPassword {
        user_id: String,
        /// A file whose first line is the password; without it `ONSITE_RELAY_PASSWORD`, else stdin.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Lift an account's sign-in lock (after too many failed sign-ins) at once.
    Unlock { user_id: String },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
enum CentreCommand {
    /// Add a service centre.
    Add {
        centre_id: String,
        /// The centre's name, e.g. 青岛市南服务中心.
        #[arg(long)]
        name: String,
    },
    /// List the service centres.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an ERP/CRM (printed once, stored only as its SHA-256).
    Create {
        /// What it may do: `export` (GET /api/v1/export/records). Repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<onsite_relay::tokens::Scope>,
        /// A name to recognise it by in `token list`.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List the API tokens.
    List,
    /// Revoke an API token (`api:…`), or a user's sign-in tokens (all devices, or one).
    Revoke {
        /// An API token id from `token list`, or a user id.
        id: String,
        /// Only this device's tokens (user ids only).
        #[arg(long)]
        device: Option<String>,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Register a URL for signed events (completion, signing, cancellation, conflict). The
    /// secret comes from --secret-file, else `ONSITE_RELAY_WEBHOOK_SECRET`, else stdin — never
    /// from the command line.
    Add {
        url: String,
        /// A file whose first line is the signing secret (at least 16 bytes).
        #[arg(long)]
        secret_file: Option<PathBuf>,
    },
    /// List the webhooks.
    List,
    /// Remove a webhook; its pending deliveries are cancelled.
    Remove { id: i64 },
    /// The delivery log: one line per attempt, of every webhook or of one.
    Deliveries { id: Option<i64> },
}

#[derive(Subcommand)]
enum CertCommand {
    /// Withdraw a technician's certificate now: their public page shows it as withdrawn and they
    /// can no longer be assigned orders. Synced to every device like a dispatcher's edit.
    Withdraw { technician: String },
    /// Print the signed link of a technician's certificate page (what the certificate QR encodes).
    Url {
        technician: String,
        /// The relay's public base URL (default: `http(s)://<listen>` from the settings).
        #[arg(long)]
        base: Option<String>,
    },
}

/// A password from `file` (its first line), else from the environment variable `env`, else from
/// stdin. Never a command-line argument: the process list shows those to every user.
fn password_input(file: Option<PathBuf>, env: &str) -> anyhow::Result<String> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(&f)
            .with_context(|| format!("reading the password from {}", f.display()))?;
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    if let Some(p) = std::env::var(env).ok().filter(|p| !p.is_empty()) {
        return Ok(p);
    }
    eprintln!("password:");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

impl ServeArgs {
    /// What the environment and the flags set (clap lets a flag win over its variable).
    fn overrides(self, database: Option<PathBuf>) -> Overrides {
        Overrides {
            listen: self.listen,
            database,
            token_ttl_hours: self.token_ttl_hours,
            max_body_bytes: self.max_body_bytes,
            max_doc_bytes: self.max_doc_bytes,
            max_docs_per_response: self.max_docs_per_response,
            log_format: self.log_format,
            max_concurrent_password_checks: self.max_concurrent_password_checks,
            sign_in_wait_secs: self.sign_in_wait_secs,
            max_concurrent_requests: self.max_concurrent_requests,
            request_timeout_secs: self.request_timeout_secs,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            trusted_proxies: self.trusted_proxies,
        }
    }
}

/// The log filter unless `ONSITE_RELAY_LOG` sets one. Automerge instruments its column parser
/// with INFO-level spans (`#[tracing::instrument]`), one per column of every change and document
/// it reads: enabled, their fields were formatted for nothing — 8 % of the relay's CPU under
/// load (docs/benchmarks.md, "the relay under load"). Its warnings and errors still show.
const DEFAULT_LOG_FILTER: &str = "info,tower_http=info,automerge=warn";

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ONSITE_RELAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let file = cli.config.as_deref();
    let database = cli.database;
    match cli.command {
        Command::Serve(a) => serve(Config::layered(file, a.overrides(database))?),
        Command::User(u) => user(open(file, database)?.1.as_ref(), u),
        Command::Centre(c) => centre(open(file, database)?.1.as_ref(), c),
        Command::Token(t) => token(open(file, database)?.1.as_ref(), t),
        Command::Webhook(w) => webhook(open(file, database)?.1.as_ref(), w),
        Command::Cert(c) => {
            let (config, s) = open(file, database)?;
            cert(s.as_ref(), &config, c)
        }
        Command::Backup { to } => {
            let config = Config::layered(file, database_only(database))?;
            let s = onsite_relay::backup::backup(&config.database, &to, now_ms())?;
            println!("backed up to {}", to.display());
            print_summary(&s);
            Ok(())
        }
        Command::Restore { from } => {
            let config = Config::layered(file, database_only(database))?;
            let s = onsite_relay::backup::restore(&config.database, from.as_deref(), now_ms())?;
            println!("restored; devices resume at their next sync");
            print_summary(&s);
            Ok(())
        }
        Command::Seed {
            password_file,
            orders,
        } => {
            let (config, s) = open(file, database)?;
            let pw = password_input(password_file, "ONSITE_RELAY_SEED_PASSWORD")?;
            seed(s.as_ref(), &config, &pw, orders)
        }
    }
}

fn print_summary(s: &onsite_relay::backup::Summary) {
    if let (Some(head), Some(changes)) = (s.head, s.changes) {
        println!("feed head {head}, {changes} changes");
    }
    if let (Some(d), Some(a)) = (s.documents, s.attachments) {
        println!("{d} documents, {a} attachments; integrity check ok");
    }
    if let Some(e) = &s.epoch {
        println!("database epoch {e}");
    }
}

fn database_only(database: Option<PathBuf>) -> Overrides {
    Overrides {
        database,
        ..Overrides::default()
    }
}

/// The settings (file and `--database`) and the database of an administration command.
fn open(
    file: Option<&Path>,
    database: Option<PathBuf>,
) -> anyhow::Result<(Config, Arc<dyn RelayStorage>)> {
    let config = Config::layered(file, database_only(database))?;
    let storage = onsite_relay::storage::open(&config.database)?;
    Ok((config, storage))
}

fn serve(config: Config) -> anyhow::Result<()> {
    init_logs(&config.log_format);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        onsite_relay::serve(config, listener).await?;
        anyhow::Ok(())
    })
}

fn user(s: &dyn RelayStorage, command: UserCommand) -> anyhow::Result<()> {
    let no_user = |user_id: &str| anyhow!("no user '{user_id}'; see `onsite-relay user list`");
    match command {
        UserCommand::Add {
            user_id,
            role,
            name,
            centre,
            password_file,
        } => {
            let pw = password_input(password_file, "ONSITE_RELAY_PASSWORD")?;
            let name = name.unwrap_or_else(|| user_id.clone());
            let new = accounts::NewUser {
                user_id: &user_id,
                display_name: &name,
                role,
                centre: &centre,
            };
            accounts::add_user_in(s, &new, &pw, now_ms())?;
            println!("added {user_id} ({role}, centre {centre})");
        }
        UserCommand::Disable { user_id } => {
            let n =
                accounts::disable_user(s, &user_id, now_ms())?.ok_or_else(|| no_user(&user_id))?;
            println!("disabled {user_id}; revoked {n} token(s)");
        }
        UserCommand::Enable { user_id } => {
            if !accounts::enable_user(s, &user_id)? {
                return Err(no_user(&user_id));
            }
            println!("enabled {user_id}");
        }
        UserCommand::ResetPassword {
            user_id,
            password_file,
        } => {
            let pw = password_input(password_file, "ONSITE_RELAY_PASSWORD")?;
            let n = accounts::reset_password(s, &user_id, &pw, now_ms())?
                .ok_or_else(|| no_user(&user_id))?;
            println!("password reset for {user_id}; revoked {n} token(s)");
        }
        UserCommand::Unlock { user_id } => {
            s.user(&user_id)?.ok_or_else(|| no_user(&user_id))?;
            match accounts::unlock_user(s, &user_id)? {
                true => println!("lifted the sign-in lock of {user_id}"),
                false => println!("{user_id} had no failed sign-ins"),
            }
        }
        UserCommand::List => {
            for u in s.users()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.user_id,
                    u.role,
                    u.centre,
                    if u.disabled { "disabled" } else { "active" },
                    u.display_name
                );
            }
        }
    }
    Ok(())
}

fn centre(s: &dyn RelayStorage, cmd: CentreCommand) -> anyhow::Result<()> {
    match cmd {
        CentreCommand::Add { centre_id, name } => {
            accounts::add_centre(s, &centre_id, &name, now_ms())?;
            println!("added centre {centre_id} ({name})");
        }
        CentreCommand::List => {
            for c in s.centres()? {
                println!("{}\t{}", c.centre_id, c.name);
            }
        }
    }
    Ok(())
}

fn cert(s: &dyn RelayStorage, config: &Config, command: CertCommand) -> anyhow::Result<()> {
    use onsite_relay::certificate::{self, Withdrawal};
    match command {
        CertCommand::Withdraw { technician } => {
            match certificate::withdraw(s, &config.limits(), &technician, now_ms())? {
                Withdrawal::Withdrawn { at_ms } => {
                    println!("withdrew the certificate of {technician} at {at_ms}")
                }
                Withdrawal::AlreadyWithdrawn { at_ms } => {
                    println!("the certificate of {technician} was already withdrawn at {at_ms}")
                }
            }
        }
        CertCommand::Url { technician, base } => {
            let path = certificate::path_of(s, &technician, now_ms())?
                .ok_or_else(|| anyhow!("no profile for technician '{technician}' on this relay"))?;
            let scheme = if config.tls_cert.is_some() {
                "https"
            } else {
                "http"
            };
            let base = base.unwrap_or_else(|| format!("{scheme}://{}", config.listen));
            println!("{}{path}", base.trim_end_matches('/'));
        }
    }
    Ok(())
}

fn seed(s: &dyn RelayStorage, config: &Config, pw: &str, orders: u32) -> anyhow::Result<()> {
    let now = now_ms();
    let day = now - now.rem_euclid(24 * onsite_domain::HOUR);
    let summary = onsite_relay::seed::seed_demo(s, config, pw, orders, day, now)?;
    for (id, role, name) in &summary.users {
        println!("user {id}\t{role}\t{name}");
    }
    println!(
        "{} documents, {} orders; feed at {}",
        summary.documents,
        summary.orders.len(),
        summary.head
    );
    Ok(())
}

fn token(s: &dyn RelayStorage, command: TokenCommand) -> anyhow::Result<()> {
    use onsite_relay::tokens;
    match command {
        TokenCommand::Create { scopes, name } => {
            let (clear, t) = tokens::create(s, &name, &scopes, now_ms())?;
            let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
            println!(
                "created {} ({}) with scope {}",
                t.id,
                t.name,
                scopes.join(",")
            );
            println!("{clear}");
            eprintln!("the token is shown only now; keep it in the ERP/CRM's secret store");
        }
        TokenCommand::List => {
            for t in s.api_tokens()? {
                let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
                let state = t
                    .revoked_at_ms
                    .map_or("active".to_owned(), |at| format!("revoked at {at}"));
                println!("{}\t{}\t{}\t{}", t.id, scopes.join(","), state, t.name);
            }
        }
        TokenCommand::Revoke { id, device } if tokens::is_api_token_id(&id) => {
            if device.is_some() {
                return Err(anyhow!("--device is for a user's tokens, not an API token"));
            }
            if !s.revoke_api_token(&id, now_ms())? {
                return Err(anyhow!(
                    "no active API token '{id}'; see `onsite-relay token list`"
                ));
            }
            println!("revoked {id}");
        }
        TokenCommand::Revoke { id, device } => {
            let n = s.revoke_tokens(&id, device.as_deref(), now_ms())?;
            println!("revoked {n} token(s) of {id}");
        }
    }
    Ok(())
}

fn webhook(s: &dyn RelayStorage, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add { url, secret_file } => {
            let secret = password_input(secret_file, "ONSITE_RELAY_WEBHOOK_SECRET")?;
            let id = onsite_relay::webhooks::add(s, &url, &secret, now_ms())?;
            println!("added webhook {id} → {url}");
        }
        WebhookCommand::List => {
            for w in s.webhooks()? {
                let state = w
                    .removed_at_ms
                    .map_or("active".to_owned(), |at| format!("removed at {at}"));
                println!("{}\t{}\t{}", w.id, state, w.url);
            }
        }
        WebhookCommand::Remove { id } => {
            if !s.remove_webhook(id, now_ms())? {
                return Err(anyhow!(
                    "no active webhook {id}; see `onsite-relay webhook list`"
                ));
            }
            println!("removed webhook {id}; its pending deliveries are cancelled");
        }
        WebhookCommand::Deliveries { id } => {
            for a in s.delivery_log(id)? {
                let status = a
                    .http_status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\tattempt {}\t{}\t{}\t{}\t{}",
                    a.started_at_ms,
                    a.destination,
                    a.event_id,
                    a.kind,
                    a.attempt,
                    a.outcome,
                    status,
                    a.ordering_key,
                    a.error.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
