//! What the window's page is given, and where it may go.
//!
//! The page is the UI the daemon serves, at the daemon's own address: the same files and the same API a browser
//! gets. When the daemon needs a token, the page finds it in `window.__PILOT_TOKEN__`, set by an initialization
//! script before the page's own scripts run: it is never in a URL (nor in the history), and never stored. The
//! script sets it only on the daemon's origin, and the window goes to no other origin.

use server::api::ApiToken;
use tauri::Url;

/// The script run at the start of every page the window loads: gives the daemon's own pages its token.
pub fn init_script(daemon: &Url, token: Option<&ApiToken>) -> String {
    let origin = serde_json::Value::from(daemon.origin().ascii_serialization());
    let token = serde_json::Value::from(token.map(ApiToken::as_str));
    format!(
        "(function () {{\n  if (window.location.origin !== {origin}) return;\n  \
         Object.defineProperty(window, '__PILOT_TOKEN__', {{ value: {token}, writable: false, configurable: false }});\n\
         }})();\n"
    )
}

/// Whether the window may show `to`: pages of the daemon only (a link elsewhere would take the token's page away).
pub fn may_navigate(daemon: &Url, to: &Url) -> bool {
    daemon.origin() == to.origin()
}

/// The script that shows one execution in the UI: its hash route, encoded as the UI's own links encode it.
pub fn show_execution_script(execution_id: &str) -> String {
    let id = serde_json::Value::from(execution_id);
    format!("window.location.hash = '/executions/' + encodeURIComponent({id});")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon() -> Url {
        Url::parse("http://127.0.0.1:43117/").unwrap()
    }

    #[test]
    fn the_token_is_set_only_on_the_daemons_origin_and_quoted_as_a_js_string() {
        let script = init_script(&daemon(), Some(&ApiToken::new("ab\"cd")));
        assert!(script.contains("if (window.location.origin !== \"http://127.0.0.1:43117\") return;"), "{script}");
        assert!(script.contains("value: \"ab\\\"cd\""), "{script}");
        let without = init_script(&daemon(), None);
        assert!(without.contains("value: null"), "{without}");
    }

    #[test]
    fn the_window_stays_on_the_daemons_pages() {
        let daemon = daemon();
        assert!(may_navigate(&daemon, &Url::parse("http://127.0.0.1:43117/#/workflows/backup").unwrap()));
        assert!(!may_navigate(&daemon, &Url::parse("http://127.0.0.1:43118/").unwrap()), "another port");
        assert!(!may_navigate(&daemon, &Url::parse("https://example.com/").unwrap()));
    }

    #[test]
    fn an_execution_is_shown_by_its_hash_route_with_the_id_quoted() {
        assert_eq!(
            show_execution_script("0193'x"),
            "window.location.hash = '/executions/' + encodeURIComponent(\"0193'x\");"
        );
    }
}
