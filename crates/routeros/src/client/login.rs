//! Logging in: the post-6.43 method (name and password in one `/login`) and the legacy
//! challenge-response (`/login` returns `=ret=<challenge>`, answered with an MD5 response).
//!
//! [`LoginMethod::Auto`] sends the post-6.43 login and falls back to the challenge when an
//! old router answers with one, as old routers ignore the name and password and do.

use md5::{Digest, Md5};

use super::Client;
use crate::error::Error;
use crate::sentence::Command;

/// How the client logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginMethod {
    /// The 6.43+ method, falling back to the legacy challenge if the router sends one.
    #[default]
    Auto,
    /// Only the legacy challenge-response (RouterOS before 6.43).
    Legacy,
}

pub(crate) async fn login(
    client: &Client,
    username: &str,
    password: &str,
    method: LoginMethod,
) -> Result<(), Error> {
    let first = match method {
        LoginMethod::Auto => Command::new("/login")
            .attr("name", username)
            .attr("password", password),
        LoginMethod::Legacy => Command::new("/login"),
    };
    let response = client.run(&first).await.map_err(refused)?;
    let Some(challenge) = response.ret_text() else {
        return match method {
            LoginMethod::Auto => Ok(()),
            LoginMethod::Legacy => Err(Error::LoginRefused {
                message: "the router sent no login challenge".to_owned(),
            }),
        };
    };
    let answer = challenge_response(password, &challenge).ok_or_else(|| Error::LoginRefused {
        message: format!("the router sent an invalid challenge {challenge:?}"),
    })?;
    let second = Command::new("/login")
        .attr("name", username)
        .attr("response", answer);
    client.run(&second).await.map_err(refused)?;
    Ok(())
}

fn refused(error: Error) -> Error {
    match error {
        Error::Trap { message, .. } => Error::LoginRefused { message },
        other => other,
    }
}

/// The legacy response: `00` followed by hex(md5(0x00, password, challenge bytes)).
pub fn challenge_response(password: &str, challenge_hex: &str) -> Option<String> {
    let challenge = unhex(challenge_hex)?;
    let mut md5 = Md5::new();
    md5.update([0u8]);
    md5.update(password.as_bytes());
    md5.update(&challenge);
    Some(format!("00{}", hex(&md5.finalize())))
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hexadecimal (either case); `None` on odd length or a non-hex digit.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_response_is_md5_of_zero_password_and_challenge() {
        // md5(0x00 "secret" 0x00..0x0f), checked against an independent implementation.
        let challenge = hex(&(0u8..16).collect::<Vec<_>>());
        let response = challenge_response("secret", &challenge).unwrap();
        assert_eq!(response.len(), 34);
        assert!(response.starts_with("00"));
        let mut md5 = Md5::new();
        md5.update(b"\0secret");
        md5.update((0u8..16).collect::<Vec<_>>());
        assert_eq!(&response[2..], hex(&md5.finalize()));
        assert_eq!(challenge_response("x", "abc"), None);
        assert_eq!(challenge_response("x", "zz"), None);
    }
}
