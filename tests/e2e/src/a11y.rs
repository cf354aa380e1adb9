//! Accessibility checks with axe-core, run inside the page under test.
//!
//! The script comes from `MESHMEET_AXE_JS` (set by `cargo xtask test`), else from where
//! xtask installs it (`~/.cache/meshmeet/tools/axe-core-<version>/…/axe.min.js`).

use crate::{Browser, Error, Result};
use serde_json::{json, Value as Json};
use std::path::PathBuf;

/// axe-core version xtask installs (keep in step with `xtask/src/tools.rs`).
const AXE_CORE_VERSION: &str = "4.14.1";

/// Impacts that fail a check: axe's `serious` and `critical`.
const FAILING_IMPACTS: [&str; 2] = ["serious", "critical"];

fn axe_script() -> Result<String> {
    let path = match std::env::var_os("MESHMEET_AXE_JS") {
        Some(path) => PathBuf::from(path),
        None => crate::tools_dir()
            .join(format!("axe-core-{AXE_CORE_VERSION}"))
            .join("node_modules/axe-core/axe.min.js"),
    };
    std::fs::read_to_string(&path).map_err(|e| {
        Error::new(format!(
            "axe-core is not at {} ({e}): run `cargo xtask test`, which installs it, or set MESHMEET_AXE_JS",
            path.display()
        ))
    })
}

/// Runs axe-core on the page as it is now and returns every serious or critical violation,
/// one line each (rule, impact, help text, and the elements concerned).
pub async fn serious_violations(browser: &Browser) -> Result<Vec<String>> {
    const INJECT: &str = r#"
        if (!window.axe) {
          const s = document.createElement('script');
          s.textContent = arguments[0];
          document.head.appendChild(s);
        }
        return typeof window.axe;
    "#;
    let kind = browser
        .eval_with(INJECT, vec![json!(axe_script()?)])
        .await?;
    if kind != json!("object") {
        return Err(Error::new(format!(
            "{}: axe-core did not load (window.axe is {kind})",
            browser.label()
        )));
    }
    const RUN: &str = r#"
        const result = await window.axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map(v => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
        }));
    "#;
    let violations = browser.eval_with(RUN, Vec::new()).await?;
    let list = violations.as_array().cloned().unwrap_or_default();
    Ok(list
        .iter()
        .filter(|v| {
            v.get("impact")
                .and_then(Json::as_str)
                .is_some_and(|i| FAILING_IMPACTS.contains(&i))
        })
        .map(|v| {
            let text = |key: &str| v.get(key).and_then(Json::as_str).unwrap_or("?").to_owned();
            let nodes: Vec<String> = v
                .get("nodes")
                .and_then(Json::as_array)
                .map(|n| {
                    n.iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{} ({}): {} at {}",
                text("id"),
                text("impact"),
                text("help"),
                nodes.join(", ")
            )
        })
        .collect())
}
