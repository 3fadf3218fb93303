//! Redeploy without a restart: `SIGHUP`, or `--watch` polling the files,
//! builds a new [`Deployment`] and swaps it in atomically. Requests in flight
//! keep the deployment they started with; a document that fails to load
//! leaves the one in force and says why. When the authorizers and policies
//! are unchanged the layer is kept, and with it the keys already fetched;
//! otherwise the new layer takes over the keys of the pools it shares with
//! the old one ([`tower_cognito::KeyStore::adopt_keys`]) and fetches the rest.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use crate::config::{self, Deployment, Document, DocumentSource, Settings};
use crate::dev_issuer::DevIssuer;

/// How long a reload waits for the keys of a changed authorizer.
const KEY_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything a reload needs.
pub(crate) struct Reloader {
    pub(crate) settings: Settings,
    pub(crate) dev: Option<Arc<DevIssuer>>,
    pub(crate) current: Arc<ArcSwap<Deployment>>,
}

impl Reloader {
    /// Builds and swaps in a new deployment, or keeps the current one.
    pub(crate) async fn reload(&self, why: &str) {
        match self.try_reload().await {
            Ok(message) => println!("reload ({why}): {message}"),
            Err(e) => {
                eprintln!("reload ({why}) failed, the previous deployment stays in force: {e}")
            }
        }
    }

    async fn try_reload(&self) -> Result<String, String> {
        let settings = self.settings.with_file_variables()?;
        let document = Document::load(&settings)?;
        document.check_declared_pools(&settings, self.dev.is_some())?;
        let previous = self.current.load_full();
        let dev_jwks = self.dev.as_ref().map(|d| d.server.base_url().to_owned());
        let next = config::build(&settings, &document, dev_jwks.as_deref(), Some(&previous))?;
        if let Some(dev) = &self.dev {
            dev.check(&next.summary)?;
        }
        let keys = if next.keys_kept {
            "authorizers unchanged, keys kept".to_owned()
        } else {
            // Fetches only the pools whose keys were not taken over.
            match tokio::time::timeout(KEY_LOAD_TIMEOUT, next.layer.key_store().load()).await {
                Ok(Ok(())) if next.keys_adopted.is_empty() => {
                    "authorizers changed, keys loaded".to_owned()
                }
                Ok(Ok(())) => format!(
                    "authorizers changed, keys kept for {}, others loaded",
                    next.keys_adopted.join(", ")
                ),
                Ok(Err(e)) => return Err(format!("keys: {e}")),
                Err(_) => return Err(format!("keys not loaded within {KEY_LOAD_TIMEOUT:?}")),
            }
        };
        let routes = next.summary.routes.len();
        let lines = next.route_lines();
        self.current.store(Arc::new(next));
        for line in lines {
            println!("  {line}");
        }
        Ok(format!(
            "{} in force, {routes} routes; {keys}",
            document.name
        ))
    }

    /// Spawns the triggers: `SIGHUP` always, file polling with `watch`.
    pub(crate) fn spawn(self: Arc<Self>, watch: Option<Duration>) {
        #[cfg(unix)]
        {
            let this = Arc::clone(&self);
            tokio::spawn(async move {
                use tokio::signal::unix::{signal, SignalKind};
                let Ok(mut hangup) = signal(SignalKind::hangup()) else {
                    eprintln!("reload: cannot listen for SIGHUP");
                    return;
                };
                while hangup.recv().await.is_some() {
                    this.reload("SIGHUP").await;
                }
            });
        }
        let Some(every) = watch else { return };
        let mut files = self.watched();
        if files.is_empty() {
            println!("watch: nothing to watch (the shipped export is built in)");
            return;
        }
        tokio::spawn(async move {
            let mut seen = stamps(&files);
            loop {
                tokio::time::sleep(every).await;
                let now = stamps(&files);
                if now != seen {
                    seen = now;
                    self.reload("file changed").await;
                    // A template may name other files now.
                    let next = self.watched();
                    if next != files {
                        files = next;
                        seen = stamps(&files);
                    }
                }
            }
        });
    }

    /// The files a deployment is read from: the export, or the template and
    /// the definitions it names (`DefinitionUri`); the stage variables file.
    fn watched(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = Vec::new();
        match &self.settings.source {
            DocumentSource::File(path) => files.push(path.clone()),
            DocumentSource::Template(source) => {
                files.push(source.path.clone());
                // Unreadable now: the template alone, until it reads again.
                if let Ok(converted) = crate::sam::convert(source, &self.settings.stage) {
                    files.extend(converted.files);
                }
            }
            DocumentSource::Shipped => {}
        }
        files.extend(self.settings.stage_variables_file.clone());
        files
    }
}

/// Modification time and length of each file (`None` while missing).
fn stamps(files: &[PathBuf]) -> Vec<Option<(SystemTime, u64)>> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}
