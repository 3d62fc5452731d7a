//! Request bodies at the door: read within a time limit, at most ARM's size, and refused when
//! they nest deeper than the emulator can store and read back.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::http::ApiError;

/// ARM's limit on a request body ("The request content size exceeds the maximum size of 4 MB.").
const MAX_BODY: usize = 4 * 1024 * 1024;
/// How much of a too large body is read on and discarded before answering 413.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
/// The deepest nesting of objects and arrays a body may have. ARM does not document its limit;
/// 64 is Json.NET's default `MaxDepth`, far above any ARM resource (a private endpoint nests 7
/// deep) and far below what the state file can hold (serde_json reads 128 levels, and the file
/// wraps each resource 3 levels down).
pub const MAX_DEPTH: usize = 64;

/// Reads a body within `timeout` (a client trickling it holds a connection slot), keeping at
/// most `MAX_BODY` bytes. A larger body is read on and discarded (up to `DRAIN_LIMIT`) so that a
/// client still sending it gets to read the 413 rather than a reset connection.
pub async fn read(body: Incoming, timeout: Duration) -> Result<Bytes, ApiError> {
    tokio::time::timeout(timeout, read_all(body))
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                408,
                "RequestTimeout",
                format!(
                    "The request content was not received within {} seconds.",
                    timeout.as_secs_f64()
                ),
            ))
        })
}

async fn read_all(mut body: Incoming) -> Result<Bytes, ApiError> {
    let mut kept = Vec::new();
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request(
                "InvalidRequestContent",
                format!("The request content could not be read: {e}."),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total <= MAX_BODY {
            kept.extend_from_slice(&data);
        } else if total > DRAIN_LIMIT {
            break;
        }
    }
    if total > MAX_BODY {
        return Err(ApiError::new(
            413,
            "RequestContentTooLarge",
            "The request content size exceeds the maximum size of 4 MB.",
        ));
    }
    Ok(Bytes::from(kept))
}

/// Refuses JSON that nests objects and arrays deeper than [`MAX_DEPTH`], counted over the raw
/// bytes (outside strings) so that no parser recursion is spent on it.
pub fn check_depth(body: &[u8]) -> Result<(), ApiError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ApiError::bad_request(
                        "InvalidRequestContent",
                        format!(
                            "The request content was invalid and could not be deserialized: it nests objects and arrays deeper than {MAX_DEPTH} levels."
                        ),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_is_counted_outside_strings_only() {
        assert!(check_depth(nested(MAX_DEPTH).as_bytes()).is_ok());
        let e = check_depth(nested(MAX_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "InvalidRequestContent"));
        let in_strings = format!(
            r#"{{"a": "{}", "b": "\"{}"}}"#,
            "[".repeat(500),
            "{".repeat(500)
        );
        assert!(check_depth(in_strings.as_bytes()).is_ok());
        // Siblings do not add up.
        let wide = format!("[{}]", vec![nested(MAX_DEPTH - 1); 100].join(","));
        assert!(check_depth(wide.as_bytes()).is_ok());
    }

    proptest! {
        /// Whatever passes the check, serde_json parses without reaching its recursion limit
        /// (128), even wrapped three levels deeper as the state file wraps it.
        #[test]
        fn what_passes_parses_wrapped_in_the_state_file(
            opens in proptest::collection::vec(prop_oneof![Just("["), Just("{\"k\":")], 0..140),
        ) {
            let mut text = String::new();
            for o in &opens {
                text.push_str(o);
            }
            text.push('1');
            for o in opens.iter().rev() {
                text.push(if *o == "[" { ']' } else { '}' });
            }
            if check_depth(text.as_bytes()).is_ok() {
                let wrapped = format!(r#"{{"resources": {{"k": {{"v": {text}}}}}}}"#);
                prop_assert!(serde_json::from_str::<serde_json::Value>(&wrapped).is_ok());
            } else {
                prop_assert!(opens.len() > MAX_DEPTH);
            }
        }
    }
}
