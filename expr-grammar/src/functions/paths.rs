//! File paths, as text (nothing touches the file system): `basename`, `dirname`, `extension`.

use super::{Accepts, Body, FunctionDef, ResultSize, arg_str, param, returns_string};
use crate::value::Value;
use std::path::Path;

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "basename",
        params: &[param("path", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(basename),
        result_size: ResultSize::LikeArguments,
        description: "The last component of a path (`report.docx` of `/docs/report.docx`).",
        example: "basename('/docs/2024/report.docx')",
        example_result: r#""report.docx""#,
    },
    FunctionDef {
        name: "dirname",
        params: &[param("path", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(dirname),
        result_size: ResultSize::LikeArguments,
        description: "The path without its last component; `.` for a bare file name, `/` for the root.",
        example: "dirname('/docs/2024/report.docx')",
        example_result: r#""/docs/2024""#,
    },
    FunctionDef {
        name: "extension",
        params: &[param("path", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(extension),
        result_size: ResultSize::LikeArguments,
        description: "The file extension without the dot, or an empty string when there is none.",
        example: "extension('/docs/archive.tar.gz')",
        example_result: r#""gz""#,
    },
];

fn basename(args: &[Value]) -> Result<Value, String> {
    let path = Path::new(arg_str(args, 0)?);
    Ok(Value::from(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()))
}

fn dirname(args: &[Value]) -> Result<Value, String> {
    let text = arg_str(args, 0)?;
    let parent = match Path::new(text).parent() {
        Some(p) if p.as_os_str().is_empty() => ".".to_string(),
        Some(p) => p.to_string_lossy().into_owned(),
        None if text.starts_with('/') => "/".to_string(),
        None => ".".to_string(),
    };
    Ok(Value::from(parent))
}

fn extension(args: &[Value]) -> Result<Value, String> {
    let path = Path::new(arg_str(args, 0)?);
    Ok(Value::from(path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default()))
}
