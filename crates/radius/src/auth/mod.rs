//! Authentication methods, client and server side: PAP, CHAP, MS-CHAPv1 and MS-CHAPv2 (with
//! MPPE keys), and [`check_password`], which checks whichever one a request uses against a
//! cleartext password.

pub mod chap;
pub mod mschap;
pub mod mscrypto;
pub mod pap;

use crate::attr::Attribute;
use crate::attrs;
use crate::crypto::HideError;
use crate::packet::Packet;

/// An authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// PAP: User-Password.
    Pap,
    /// CHAP: CHAP-Password.
    Chap,
    /// MS-CHAPv1: MS-CHAP-Challenge + MS-CHAP-Response.
    MsChapV1,
    /// MS-CHAPv2: MS-CHAP-Challenge + MS-CHAP2-Response.
    MsChapV2,
}

impl Method {
    /// The method a request uses, by the attributes it carries.
    pub fn of(request: &Packet) -> Option<Method> {
        if request.contains(attrs::MS_CHAP2_RESPONSE.id()) {
            Some(Method::MsChapV2)
        } else if request.contains(attrs::MS_CHAP_RESPONSE.id()) {
            Some(Method::MsChapV1)
        } else if request.contains(attrs::CHAP_PASSWORD.id()) {
            Some(Method::Chap)
        } else if request.contains(attrs::USER_PASSWORD.id()) {
            Some(Method::Pap)
        } else {
            None
        }
    }
}

/// Puts the credentials for `method` into an Access-Request whose User-Name is set (client
/// side): User-Password, CHAP-Password (the Request Authenticator as challenge, with the
/// request's identifier as CHAP identifier), or the MS-CHAP challenge and response. For
/// MS-CHAPv2 it returns what is needed to check the server's MS-CHAP2-Success.
pub fn add_credentials(
    request: &mut Packet,
    method: Method,
    password: &str,
    secret: &[u8],
) -> Result<Option<mschap::V2Exchange>, HideError> {
    match method {
        Method::Pap => pap::add_user_password(request, password.as_bytes(), secret)?,
        Method::Chap => {
            let identifier = request.identifier;
            chap::add_chap_password(request, identifier, password.as_bytes(), None);
        }
        Method::MsChapV1 => mschap::add_v1(request, password),
        Method::MsChapV2 => return Ok(Some(mschap::add_v2(request, password))),
    }
    Ok(None)
}

/// The result of checking a request's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The password is right. `reply` holds the attributes the method puts into the
    /// Access-Accept (MS-CHAP2-Success and the MPPE keys for MS-CHAP).
    Accept {
        /// The method used.
        method: Method,
        /// Attributes for the Access-Accept.
        reply: Vec<Attribute>,
    },
    /// The password is wrong or the credentials are malformed. `reply` holds the attributes
    /// for the Access-Reject (MS-CHAP-Error for MS-CHAP).
    Reject {
        /// The method used, if one was recognised.
        method: Option<Method>,
        /// Attributes for the Access-Reject.
        reply: Vec<Attribute>,
    },
}

impl Outcome {
    /// True for [`Outcome::Accept`].
    pub fn is_accept(&self) -> bool {
        matches!(self, Outcome::Accept { .. })
    }
}

/// Checks a verified Access-Request's credentials, whichever method it uses, against the
/// user's cleartext password.
pub fn check_password(request: &Packet, secret: &[u8], password: &str) -> Outcome {
    let method = Method::of(request);
    let reject = |reply| Outcome::Reject { method, reply };
    let accept = |method, reply| Outcome::Accept { method, reply };
    match method {
        Some(Method::Pap) if pap::verify(request, secret, password.as_bytes()) => {
            accept(Method::Pap, Vec::new())
        }
        Some(Method::Chap) if chap::verify(request, password.as_bytes()) == Ok(true) => {
            accept(Method::Chap, Vec::new())
        }
        Some(Method::MsChapV1) => match mschap::verify_v1(request, secret, password) {
            Ok(reply) => accept(Method::MsChapV1, reply),
            Err(reply) => reject(reply),
        },
        Some(Method::MsChapV2) => match mschap::verify_v2(request, secret, password) {
            Ok(reply) => accept(Method::MsChapV2, reply),
            Err(reply) => reject(reply),
        },
        _ => reject(Vec::new()),
    }
}
