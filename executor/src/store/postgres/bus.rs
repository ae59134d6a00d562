//! The cluster bus: `LISTEN` / `NOTIFY` between the nodes sharing a database. Each node holds one listening
//! connection ([`PostgresStore::listen`]), reopened when lost, and sends with [`PostgresStore::notify`] (many
//! notifications in one statement).

use super::{PostgresStore, database_error, pool_error};
use crate::store::StoreError;
use std::time::Duration;
use tokio::sync::mpsc;

/// Notified on commit when a pending execution is accepted, and when an execution of a workflow with a
/// concurrency limit ends: nodes with room claim work.
pub const PENDING_CHANNEL: &str = super::writer::PENDING_CHANNEL;
/// One event of an execution, as JSON naming the node that ran it.
pub const EVENTS_CHANNEL: &str = "pilot_events";
/// An execution id whose owner is asked to cancel it.
pub const CANCEL_CHANNEL: &str = "pilot_cancel";
/// The `application_name` of the listening connection (seen in `pg_stat_activity`).
pub const LISTENER_NAME: &str = "pilot-listener";
/// PostgreSQL refuses a payload of 8000 bytes or more.
pub const MAX_PAYLOAD: usize = 7999;

/// What the listener hands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusMessage {
    Notification {
        channel: String,
        payload: String,
    },
    /// The connection was lost and is open again: notifications sent meanwhile were missed.
    Reconnected,
}

/// Waits between attempts to reopen the listening connection: doubling from the first to the last.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_LAST: Duration = Duration::from_secs(5);

impl PostgresStore {
    /// Listens to `channels` on a connection of its own, kept while the receiver lives. A lost connection is
    /// reopened (waiting longer after each failure, up to 5 s), logged once per outage, and followed by
    /// [`BusMessage::Reconnected`]. Fails only if the first connection cannot be opened.
    pub async fn listen(&self, channels: &[&str]) -> Result<mpsc::UnboundedReceiver<BusMessage>, StoreError> {
        let mut config = self.config.clone();
        config.application_name(LISTENER_NAME);
        let statement: String = channels.iter().map(|channel| format!("LISTEN {channel};")).collect();
        let (sender, receiver) = mpsc::unbounded_channel();
        let first = Listening::open(&config, &statement, sender.clone())
            .await
            .map_err(|err| database_error(&self.location, "listening to the other nodes", &err))?;
        let location = self.location.clone();
        tokio::spawn(async move {
            let mut listening = first;
            loop {
                tokio::select! {
                    () = listening.lost() => {}
                    () = sender.closed() => return,
                }
                tracing::warn!(
                    "lost the connection listening to the other nodes ({}): reopening it",
                    location.display()
                );
                let mut wait = RETRY_FIRST;
                listening = loop {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = sender.closed() => return,
                    }
                    match Listening::open(&config, &statement, sender.clone()).await {
                        Ok(listening) => break listening,
                        Err(_) => wait = (wait * 2).min(RETRY_LAST),
                    }
                };
                tracing::info!("listening to the other nodes again");
                if sender.send(BusMessage::Reconnected).is_err() {
                    return;
                }
            }
        });
        Ok(receiver)
    }

    /// Sends notifications, `(channel, payload)`, in one statement (delivered at once: not in a transaction).
    pub async fn notify(&self, notifications: &[(&str, String)]) -> Result<(), StoreError> {
        if notifications.is_empty() {
            return Ok(());
        }
        let doing = "notifying the other nodes";
        let client = self.reader.pool.get().await.map_err(|err| StoreError::Database {
            path: self.location.clone(),
            doing: doing.to_owned(),
            reason: pool_error(&err),
        })?;
        let channels: Vec<&str> = notifications.iter().map(|(channel, _)| *channel).collect();
        let payloads: Vec<&str> = notifications.iter().map(|(_, payload)| payload.as_str()).collect();
        client
            .execute(
                "SELECT count(pg_notify(channel, payload)) FROM unnest($1::text[], $2::text[]) AS n (channel, payload)",
                &[&channels, &payloads],
            )
            .await
            .map_err(|err| database_error(&self.location, doing, &err))?;
        Ok(())
    }
}

/// One open listening connection: its client (which keeps it open) and the task reading its messages.
struct Listening {
    _client: tokio_postgres::Client,
    reader: tokio::task::JoinHandle<()>,
}

impl Listening {
    async fn open(
        config: &tokio_postgres::Config,
        statement: &str,
        sender: mpsc::UnboundedSender<BusMessage>,
    ) -> Result<Listening, tokio_postgres::Error> {
        use futures::StreamExt;
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
        // Notifications arrive on the connection, which this task drives; it ends when the connection does.
        let reader = tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let tokio_postgres::AsyncMessage::Notification(note) = message {
                    let message = BusMessage::Notification {
                        channel: note.channel().to_owned(),
                        payload: note.payload().to_owned(),
                    };
                    if sender.send(message).is_err() {
                        return;
                    }
                }
            }
        });
        client.batch_execute(statement).await?;
        Ok(Listening { _client: client, reader })
    }

    /// Resolves when the connection has ended.
    async fn lost(&mut self) {
        let _ = (&mut self.reader).await;
    }
}
