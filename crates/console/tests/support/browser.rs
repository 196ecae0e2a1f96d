//! Headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`, which
//! `.ci/install-tools.sh` installs): the page as a user sees it, with a screenshot of each
//! page saved under `target/console-screenshots/` for a person to look at.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rmq_testkit::{free_port, Daemon};
use serde_json::json;
use tempfile::TempDir;

use super::until::poll_within;

const WAIT: Duration = Duration::from_secs(30);
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    base: String,
    _driver: Daemon,
    _profile: TempDir,
}

/// Where the screenshots go: `target/console-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    rmq_testkit::bin_dir()
        .parent()
        .map(|p| p.join("console-screenshots"))
        .unwrap_or_else(|| PathBuf::from("console-screenshots"))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium on the console at `base`. Missing browser
    /// binaries fail the test, saying how to install them.
    pub async fn start(base: &str, logs: &std::path::Path) -> Result<Browser> {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            if !std::path::Path::new(bin).exists() {
                bail!(
                    "{bin} is missing: the browser tests need Debian's chromium and \
                     chromium-driver (`apt-get install chromium chromium-driver`, which \
                     .ci/install-tools.sh runs)"
                );
            }
        }
        let port = free_port();
        let mut driver = Daemon::start(
            "chromedriver",
            std::path::Path::new(CHROMEDRIVER),
            &[&format!("--port={port}")],
            logs,
        )?;
        driver.wait_listening(format!("127.0.0.1:{port}").parse()?, WAIT)?;
        let profile = tempfile::tempdir()?;
        // Headless, and nothing that reaches beyond this machine (its network is closed).
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1400,1000".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"goog:chromeOptions": {"binary": CHROMIUM, "args": args}});
        let caps = caps.as_object().cloned().context("capabilities")?;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("a WebDriver session with headless Chromium")?;
        std::fs::create_dir_all(screenshot_dir())?;
        Ok(Browser {
            client,
            base: base.to_owned(),
            _driver: driver,
            _profile: profile,
        })
    }

    pub async fn open(&self, hash: &str) -> Result<()> {
        self.client.goto(&format!("{}/{hash}", self.base)).await?;
        Ok(())
    }

    /// The element with `id`, once it exists.
    pub async fn id(&self, id: &str) -> Element {
        self.css(&format!("#{id}")).await
    }

    /// The first element matching `css`, once one exists.
    pub async fn css(&self, css: &str) -> Element {
        match poll_within(WAIT, || async {
            self.client.find(Locator::Css(css)).await.ok()
        })
        .await
        {
            Some(e) => e,
            None => panic!("never: an element matches {css}"),
        }
    }

    pub async fn fill(&self, id: &str, text: &str) {
        let e = self.id(id).await;
        e.clear()
            .await
            .unwrap_or_else(|err| panic!("clear #{id}: {err}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("type into #{id}: {err}"));
    }

    /// Sets an input's value the way a user's picker would (datetime-local inputs take no
    /// typed text in a locale-independent way).
    pub async fn set_value(&self, id: &str, value: &str) {
        self.client
            .execute(
                "const e = document.getElementById(arguments[0]); e.value = arguments[1]; \
                 e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change'));",
                vec![json!(id), json!(value)],
            )
            .await
            .unwrap_or_else(|err| panic!("set #{id}: {err}"));
    }

    pub async fn click(&self, id: &str) {
        self.click_css(&format!("#{id}")).await;
    }

    pub async fn click_css(&self, css: &str) {
        let clicked = poll_within(WAIT, || async {
            let e = self.client.find(Locator::Css(css)).await.ok()?;
            e.click().await.ok()
        })
        .await;
        assert!(clicked.is_some(), "never: {css} could be clicked");
    }

    /// The text of `css` once `ok` holds for it.
    pub async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let found = poll_within(WAIT, || async {
            let e = self.client.find(Locator::Css(css)).await.ok()?;
            let t = e.text().await.ok()?;
            ok(&t).then_some(t)
        })
        .await;
        match found {
            Some(t) => t,
            None => {
                let now = match self.client.find(Locator::Css(css)).await {
                    Ok(e) => e.text().await.unwrap_or_default(),
                    Err(_) => "<no such element>".into(),
                };
                self.shot("failure").await;
                panic!("never: {what} ({css} reads {now:?})")
            }
        }
    }

    /// Waits for a page's first data (`data-loaded` on `#page-<name>`), then saves a
    /// screenshot named after it.
    pub async fn page(&self, name: &str) {
        self.css(&format!("#page-{name}[data-loaded=\"true\"]"))
            .await;
        self.shot(name).await;
    }

    pub async fn shot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join(format!("{name}.png")), png);
        }
    }

    pub async fn displayed(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }
}
