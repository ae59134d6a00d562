//! `http/download`: stream a response body to a temporary file beside the destination, hashing it on the way,
//! then rename it into place. A failed or cancelled download leaves nothing behind (the temporary file is deleted
//! when dropped). `max_size` bounds it: a `Content-Length` above the limit fails before any byte is written, and a
//! body that grows past it (no or a wrong length) fails as soon as it does.

use super::client::Clients;
use super::errors::{describe_error, status_failure};
use super::request::{Call, display_url, parse_url, request_headers};
use crate::fields::{Fields, invalid};
use crate::fs::atomic::AtomicFile;
use crate::{ActionContext, ActionError};
use expr_grammar::Value;
use reqwest::{Method, Url};
use ring::digest;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// A download that receives no byte for this long fails, even without a `timeout`.
const STALL_LIMIT: Duration = Duration::from_secs(60);
/// How much of a refused response's body is read for the error message.
const ERROR_BODY_BYTES: usize = 4096;

struct Saved {
    size: u64,
    sha256: String,
    status: u16,
}

pub(crate) async fn run(clients: &Clients, fields: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
    let url = parse_url(fields, "url")?;
    let timeout = fields.optional_limit("timeout")?;
    let overwrite = fields.bool_or("overwrite", true)?;
    let max_size = fields.optional_positive_int::<u64>("max_size")?;
    let client = clients.get(fields.bool_or("follow_redirects", true)?)?;
    let destination = destination(fields.required_string("path")?, &url).await?;
    if !overwrite && tokio::fs::try_exists(&destination).await.unwrap_or(false) {
        return Err(invalid("path", format!("`{}` already exists and `overwrite` is false", destination.display())));
    }
    let folder = destination.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    tokio::fs::create_dir_all(&folder)
        .await
        .map_err(|err| failed(format!("cannot create folder `{}`: {err}", folder.display())))?;

    let mut request =
        client.get(url.clone()).headers(request_headers(fields, ctx)?).query(&fields.string_pairs("query")?);
    if let Some(limit) = timeout {
        request = request.timeout(limit);
    }
    let call = Call { method: &Method::GET, url: &url, timeout };
    let target = Target { folder: &folder, destination: &destination, overwrite, max_size };
    let saved = tokio::select! {
        _ = ctx.cancel.cancelled() => return Err(ActionError::Cancelled),
        saved = save(request, &call, &target) => saved?,
    };
    Ok(Value::object([
        ("path", Value::from(destination.to_string_lossy().into_owned())),
        ("size", Value::Int(i64::try_from(saved.size).unwrap_or(i64::MAX))),
        ("sha256", Value::from(saved.sha256)),
        ("status", Value::Int(i64::from(saved.status))),
    ]))
}

/// `path` itself, or, when it is an existing folder, the URL's last path segment inside it.
async fn destination(path: &str, url: &Url) -> Result<PathBuf, ActionError> {
    let path = crate::fields::expand_home(path);
    if !tokio::fs::metadata(&path).await.is_ok_and(|meta| meta.is_dir()) {
        return Ok(path);
    }
    let name = url.path_segments().and_then(|mut segments| segments.next_back()).filter(|name| !name.is_empty());
    match name {
        Some(name) if name != "." && name != ".." => Ok(path.join(name)),
        _ => Err(invalid(
            "path",
            format!("`{}` is a folder and the URL names no file; give the file's path", path.display()),
        )),
    }
}

/// Where and how a download is saved.
struct Target<'a> {
    folder: &'a Path,
    destination: &'a Path,
    overwrite: bool,
    max_size: Option<u64>,
}

async fn save(request: reqwest::RequestBuilder, call: &Call<'_>, target: &Target<'_>) -> Result<Saved, ActionError> {
    let Target { folder, destination, overwrite, max_size } = *target;
    let mut response = request.send().await.map_err(|err| describe_error(&err, call))?;
    let status = response.status();
    if !status.is_success() {
        let excerpt = read_some(&mut response, ERROR_BODY_BYTES).await;
        return Err(status_failure(call, status, &excerpt));
    }
    if let (Some(limit), Some(announced)) = (max_size, response.content_length()) {
        check_size(call, announced, limit)?;
    }
    let temp = AtomicFile::beside(destination)
        .map_err(|err| failed(format!("cannot create a temporary file in `{}`: {err}", folder.display())))?;
    let std_file = temp.file().try_clone().map_err(|err| failed(format!("cannot open the temporary file: {err}")))?;
    let mut file = tokio::fs::File::from_std(std_file);
    let mut hash = digest::Context::new(&digest::SHA256);
    let mut size = 0u64;
    while let Some(chunk) = next_chunk(&mut response, call).await? {
        let chunk = chunk.as_ref();
        hash.update(chunk);
        size += chunk.len() as u64;
        if let Some(limit) = max_size {
            check_size(call, size, limit)?;
        }
        file.write_all(chunk).await.map_err(|err| write_error(destination, &err))?;
    }
    file.flush().await.map_err(|err| write_error(destination, &err))?;
    drop(file);
    // Flushing to disk and renaming block: off the async workers.
    let placed = destination.to_path_buf();
    crate::fs::blocking(move || {
        temp.commit(&placed, overwrite)
            .map_err(|err| failed(format!("cannot move the download into `{}`: {err}", placed.display())))
    })
    .await?;
    Ok(Saved { size, sha256: hex(hash.finish().as_ref()), status: status.as_u16() })
}

/// Fails once `size` bytes exceed the `max_size` limit.
fn check_size(call: &Call<'_>, size: u64, limit: u64) -> Result<(), ActionError> {
    if size <= limit {
        return Ok(());
    }
    Err(failed(format!(
        "download from {} is larger than max_size ({limit} bytes): {size} bytes or more",
        display_url(call.url)
    )))
}

/// The next piece of the body, failing when none comes for [`STALL_LIMIT`].
async fn next_chunk(
    response: &mut reqwest::Response,
    call: &Call<'_>,
) -> Result<Option<impl AsRef<[u8]> + use<>>, ActionError> {
    match tokio::time::timeout(STALL_LIMIT, response.chunk()).await {
        Ok(chunk) => chunk.map_err(|err| describe_error(&err, call)),
        Err(_) => Err(failed(format!(
            "download from {} stalled: no data for {}s",
            display_url(call.url),
            STALL_LIMIT.as_secs()
        ))),
    }
}

/// Up to `limit` bytes of the body, ignoring read errors (only for quoting in a message).
async fn read_some(response: &mut reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body
}

fn write_error(destination: &Path, err: &std::io::Error) -> ActionError {
    failed(format!("writing the download for `{}` failed: {err}", destination.display()))
}

fn failed(message: String) -> ActionError {
    ActionError::Failed { message }
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
