//! Reading JSON bodies at the edge: malformed JSON is a 400, a body of the wrong shape
//! (unknown field, missing field, wrong type) a 422 naming the field. Body size is bounded
//! by the router's limit before anything is parsed.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use domain::field::{FieldError, FieldErrors};

/// A JSON body parsed into `T` (which denies unknown fields).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return Err(ApiError::bad_request(
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::bad_request("body_unreadable", e.body_text()))?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses JSON bytes into `T`, mapping errors as the module says.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => match deserializer.end() {
            Ok(()) => Ok(value),
            Err(error) => Err(ApiError::bad_request(
                "malformed_json",
                format!("malformed JSON: {error}"),
            )),
        },
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            if !inner.is_data() {
                return Err(ApiError::bad_request(
                    "malformed_json",
                    format!("malformed JSON: {inner}"),
                ));
            }
            Err(ApiError::invalid(&FieldErrors::one(field_error(
                &path,
                &inner.to_string(),
            ))))
        }
    }
}

/// Turns a serde data error into a field error: the field is the path (or the name serde
/// quotes for unknown and missing fields), the code says which kind of mistake.
fn field_error(path: &str, message: &str) -> FieldError {
    let quoted = message.split('`').nth(1).unwrap_or("");
    let join = |name: &str| {
        if path.is_empty() || path == "." {
            name.to_owned()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            // Unknown fields come with their own name already on the path.
            path.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    if message.starts_with("unknown field") {
        FieldError::new(join(quoted), "unknown_field")
    } else if message.starts_with("missing field") {
        FieldError::new(join(quoted), "required")
    } else {
        let field = if path.is_empty() || path == "." {
            "body".to_owned()
        } else {
            path.to_owned()
        };
        FieldError::new(field, "wrong_type")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        count: u32,
    }

    fn error_of(body: &str) -> (u16, String) {
        let error = parse::<Input>(body.as_bytes()).unwrap_err();
        (error.status().as_u16(), format!("{error:?}"))
    }

    #[test]
    fn shapes_are_checked_field_by_field() {
        assert!(parse::<Input>(br#"{"name":"a","count":1}"#).is_ok());
        let (status, text) = error_of(r#"{"name":"a","count":1,"extra":2}"#);
        assert_eq!(status, 422);
        assert!(
            text.contains("\"extra\"") && text.contains("unknown_field"),
            "{text}"
        );
        let (status, text) = error_of(r#"{"name":"a"}"#);
        assert_eq!(status, 422);
        assert!(
            text.contains("\"count\"") && text.contains("required"),
            "{text}"
        );
        let (status, text) = error_of(r#"{"name":"a","count":"many"}"#);
        assert_eq!(status, 422);
        assert!(
            text.contains("\"count\"") && text.contains("wrong_type"),
            "{text}"
        );
        assert_eq!(error_of(r#"{"name": "#).0, 400);
        assert_eq!(error_of(r#"{"name":"a","count":1} trailing"#).0, 400);
        assert_eq!(error_of(r#"[1,2]"#).0, 422);
    }
}
