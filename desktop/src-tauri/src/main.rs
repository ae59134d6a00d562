//! `pilot-desktop`: opens the daemon of `$PILOT_HOME` (attached or started), shows its UI in a window, keeps the
//! tray menu and notifications going, and stops the daemon it started when it exits (the window closed, Quit in the
//! tray, SIGINT or SIGTERM). The window closing ends the app, as with any window: many Linux desktops show no tray
//! icon, and a hidden window would leave no way back. A daemon that outlives the app is `pilot service install`'s.

use pilot_desktop::page;
use pilot_desktop::running::{self, Update};
use pilot_desktop::session::Session;
use pilot_desktop::tray;
use server::home::PilotHome;
use std::sync::Mutex;
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, Url, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_notification::NotificationExt;

const WINDOW: &str = "main";

/// What the app keeps while it runs: the session (taken at exit to stop its daemon), the daemon's URL, and the task
/// following its events (stopped first at exit, so it does not reconnect while the daemon stops).
struct State {
    session: Mutex<Option<Session>>,
    url: Url,
    follower: tauri::async_runtime::JoinHandle<()>,
}

fn main() {
    init_logging();
    let home = PilotHome::from_env();
    let built = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            let session = tauri::async_runtime::block_on(Session::open(home))?;
            setup(app.handle(), session)?;
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match built {
        Ok(app) => app,
        Err(err) => {
            eprintln!("pilot-desktop: {err}");
            std::process::exit(1);
        }
    };
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            shut_down(app);
        }
    });
}

fn setup(app: &AppHandle, session: Session) -> Result<(), Box<dyn std::error::Error>> {
    let url = Url::parse(&session.url())?;
    let origin = url.clone();
    WebviewWindowBuilder::new(app, WINDOW, WebviewUrl::External(url.clone()))
        .title("Dooz Pilot")
        .inner_size(1200.0, 760.0)
        .min_inner_size(640.0, 480.0)
        .initialization_script(page::init_script(&url, session.token()))
        .on_navigation(move |to| {
            let allowed = page::may_navigate(&origin, to);
            if !allowed {
                tracing::warn!("not leaving the daemon's pages for {to}");
            }
            allowed
        })
        .build()?;

    let icon = app.default_window_icon().cloned().ok_or("the app has no icon")?;
    let menu = tray::menu(app, &tray::entries(&running::Running::default()))?;
    TrayIconBuilder::with_id(tray::TRAY)
        .icon(icon)
        .tooltip("Dooz Pilot")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .build(app)?;

    let follower = {
        let app = app.clone();
        running::follow(session.client().clone(), session.token().cloned(), move |update| on_update(&app, update))
    };
    let follower = tauri::async_runtime::spawn(follower);
    let stopper = app.clone();
    tauri::async_runtime::spawn(async move {
        server::serve::signal().await;
        tracing::info!("stopping on a signal");
        stopper.exit(0);
    });
    app.manage(State { session: Mutex::new(Some(session)), url, follower });
    Ok(())
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        tray::OPEN => show_window(app, None),
        tray::QUIT => app.exit(0),
        _ => {
            if let Some(execution_id) = id.strip_prefix(tray::EXECUTION_PREFIX) {
                show_window(app, Some(execution_id));
            }
        }
    }
}

/// Shows the window (on one execution's page when given).
fn show_window(app: &AppHandle, execution_id: Option<&str>) {
    let Some(window) = app.get_webview_window(WINDOW) else { return };
    if let Some(id) = execution_id
        && let Err(err) = window.eval(page::show_execution_script(id))
    {
        tracing::warn!("cannot show execution {id}: {err}");
    }
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

fn on_update(app: &AppHandle, update: Update) {
    match update {
        Update::Running(running) => {
            let names: Vec<&str> = running.executions().map(|execution| execution.workflow.as_str()).collect();
            tracing::info!("tray: {} unfinished: [{}]", running.len(), names.join(", "));
            let Some(icon) = app.tray_by_id(tray::TRAY) else { return };
            let updated = tray::menu(app, &tray::entries(&running))
                .and_then(|menu| icon.set_menu(Some(menu)))
                .and_then(|()| icon.set_tooltip(Some(tray::tooltip(&running))));
            if let Err(err) = updated {
                tracing::warn!("cannot update the tray menu: {err}");
            }
        }
        Update::Failed(failure) => {
            let (title, body) = tray::failure_notice(&failure);
            tracing::info!("notifying: {title} (execution {})", failure.execution_id);
            if let Err(err) = app.notification().builder().title(title).body(body).show() {
                tracing::warn!("cannot show a notification: {err}");
            }
        }
        Update::Unreachable(reason) => tracing::warn!("the daemon's events: {reason}; trying again"),
    }
}

/// Stops the daemon the app started (drained as `pilot serve` drains on a signal).
fn shut_down(app: &AppHandle) {
    let Some(state) = app.try_state::<State>() else { return };
    state.follower.abort();
    let session = state.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    let Some(session) = session else { return };
    if session.owns_daemon() {
        tracing::info!("stopping the daemon at {}", state.url);
    }
    if let Err(err) = tauri::async_runtime::block_on(session.close()) {
        tracing::error!("{err}");
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}
