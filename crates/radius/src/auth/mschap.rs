//! MS-CHAPv1 and MS-CHAPv2 over RADIUS (RFC 2548): the client puts MS-CHAP-Challenge and
//! MS-CHAP-Response / MS-CHAP2-Response into an Access-Request and checks the
//! MS-CHAP2-Success it gets back; the server checks the response against a cleartext password
//! and answers with MS-CHAP2-Success and the MPPE keys (RFC 3079), or MS-CHAP-Error.

use crate::attr::Attribute;
use crate::attrs;
use crate::auth::mscrypto::{
    asymmetric_start_key, authenticator_response, challenge_hash, challenge_response,
    hash_nt_password_hash, master_key, nt_password_hash,
};
use crate::crypto::{ct_eq, hide_password, random_salt, salt_decrypt, salt_encrypt};
use crate::packet::Packet;

/// Length of MS-CHAP-Response and MS-CHAP2-Response values.
const RESPONSE_LEN: usize = 50;
/// MS-MPPE-Encryption-Policy: encryption allowed.
const POLICY_ALLOWED: u32 = 1;
/// MS-MPPE-Encryption-Types: RC4 40 or 128 bit.
const TYPES_40_OR_128: u32 = 6;

/// The user name MS-CHAP hashes: User-Name without a `DOMAIN\` prefix (RFC 2759 §4).
fn ms_user_name(request: &Packet) -> &[u8] {
    let name = request.get(attrs::USER_NAME.id()).unwrap_or_default();
    match name.iter().rposition(|b| *b == b'\\') {
        Some(slash) => name.get(slash + 1..).unwrap_or_default(),
        None => name,
    }
}

/// What a client keeps of an MS-CHAPv2 request to check the server's MS-CHAP2-Success.
#[derive(Debug, Clone)]
pub struct V2Exchange {
    password_hash: [u8; 16],
    nt_response: [u8; 24],
    peer_challenge: [u8; 16],
    authenticator_challenge: [u8; 16],
    user_name: Vec<u8>,
}

impl V2Exchange {
    /// True when the reply carries an MS-CHAP2-Success whose authenticator response proves
    /// the server knows the password.
    pub fn verify_success(&self, reply: &Packet) -> bool {
        let Some(value) = reply.get(attrs::MS_CHAP2_SUCCESS.id()) else {
            return false;
        };
        let expected = authenticator_response(
            &self.password_hash,
            &self.nt_response,
            &self.peer_challenge,
            &self.authenticator_challenge,
            &self.user_name,
        );
        value
            .get(1..43)
            .is_some_and(|received| ct_eq(received, expected.as_bytes()))
    }
}

/// Adds MS-CHAP-Challenge and MS-CHAP2-Response for `password` (User-Name must already be
/// set); returns what is needed to check the server's answer.
pub fn add_v2(request: &mut Packet, password: &str) -> V2Exchange {
    let authenticator_challenge: [u8; 16] = rand::random();
    let peer_challenge: [u8; 16] = rand::random();
    let user_name = ms_user_name(request).to_vec();
    let password_hash = nt_password_hash(password);
    let challenge = challenge_hash(&peer_challenge, &authenticator_challenge, &user_name);
    let nt_response = challenge_response(&challenge, &password_hash);
    let mut value = Vec::with_capacity(RESPONSE_LEN);
    value.extend_from_slice(&[rand::random(), 0]);
    value.extend_from_slice(&peer_challenge);
    value.extend_from_slice(&[0; 8]);
    value.extend_from_slice(&nt_response);
    request.set(attrs::MS_CHAP_CHALLENGE, &authenticator_challenge.to_vec());
    request.set(attrs::MS_CHAP2_RESPONSE, &value);
    V2Exchange {
        password_hash,
        nt_response,
        peer_challenge,
        authenticator_challenge,
        user_name,
    }
}

/// Adds MS-CHAP-Challenge and MS-CHAP-Response (NT response only) for `password`.
pub fn add_v1(request: &mut Packet, password: &str) {
    let challenge: [u8; 8] = rand::random();
    let nt_response = challenge_response(&challenge, &nt_password_hash(password));
    let mut value = Vec::with_capacity(RESPONSE_LEN);
    value.extend_from_slice(&[rand::random(), 1]);
    value.extend_from_slice(&[0; 24]);
    value.extend_from_slice(&nt_response);
    request.set(attrs::MS_CHAP_CHALLENGE, &challenge.to_vec());
    request.set(attrs::MS_CHAP_RESPONSE, &value);
}

fn error_attribute(ident: u8, text: &str) -> Attribute {
    let mut value = vec![ident];
    value.extend_from_slice(text.as_bytes());
    Attribute::new(attrs::MS_CHAP_ERROR.id(), value)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Checks an MS-CHAPv2 request. `Ok` holds the Access-Accept attributes (MS-CHAP2-Success,
/// MS-MPPE-Recv-Key, MS-MPPE-Send-Key, encryption policy and types); `Err` holds the
/// Access-Reject attributes (MS-CHAP-Error, when the request was well-formed).
pub fn verify_v2(
    request: &Packet,
    secret: &[u8],
    password: &str,
) -> Result<Vec<Attribute>, Vec<Attribute>> {
    let challenge = request.get(attrs::MS_CHAP_CHALLENGE.id());
    let response = request.get(attrs::MS_CHAP2_RESPONSE.id());
    let (Some(challenge), Some(response)) = (challenge, response) else {
        return Err(Vec::new());
    };
    let Ok(authenticator_challenge) = <[u8; 16]>::try_from(challenge) else {
        return Err(Vec::new());
    };
    let Ok(response) = <[u8; RESPONSE_LEN]>::try_from(response) else {
        return Err(Vec::new());
    };
    let ident = response[0];
    let mut peer_challenge = [0u8; 16];
    peer_challenge.copy_from_slice(&response[2..18]);
    let mut nt_response = [0u8; 24];
    nt_response.copy_from_slice(&response[26..50]);
    let user_name = ms_user_name(request);
    let password_hash = nt_password_hash(password);
    let challenge = challenge_hash(&peer_challenge, &authenticator_challenge, user_name);
    if !ct_eq(
        &challenge_response(&challenge, &password_hash),
        &nt_response,
    ) {
        let text = format!(
            "E=691 R=1 C={} V=3 M=Authentication failed",
            hex_upper(&authenticator_challenge)
        );
        return Err(vec![error_attribute(ident, &text)]);
    }
    let success = authenticator_response(
        &password_hash,
        &nt_response,
        &peer_challenge,
        &authenticator_challenge,
        user_name,
    );
    let mut success_value = vec![ident];
    success_value.extend_from_slice(success.as_bytes());
    let master = master_key(&hash_nt_password_hash(&password_hash), &nt_response);
    let send_key = asymmetric_start_key(&master, true, true);
    let recv_key = asymmetric_start_key(&master, false, true);
    let mut reply = vec![Attribute::new(attrs::MS_CHAP2_SUCCESS.id(), success_value)];
    reply.extend(mppe_attributes(request, secret, &send_key, &recv_key));
    Ok(reply)
}

fn mppe_attributes(
    request: &Packet,
    secret: &[u8],
    send_key: &[u8; 16],
    recv_key: &[u8; 16],
) -> Vec<Attribute> {
    let auth = &request.authenticator;
    let mut out = Vec::with_capacity(4);
    // Keys of 16 octets always fit the salt scheme's 239-octet limit.
    if let Ok(recv) = salt_encrypt(recv_key, secret, auth, random_salt()) {
        out.push(Attribute::new(attrs::MS_MPPE_RECV_KEY.id(), recv));
    }
    if let Ok(send) = salt_encrypt(send_key, secret, auth, random_salt()) {
        out.push(Attribute::new(attrs::MS_MPPE_SEND_KEY.id(), send));
    }
    out.push(Attribute::new(
        attrs::MS_MPPE_ENCRYPTION_POLICY.id(),
        POLICY_ALLOWED.to_be_bytes(),
    ));
    out.push(Attribute::new(
        attrs::MS_MPPE_ENCRYPTION_TYPES.id(),
        TYPES_40_OR_128.to_be_bytes(),
    ));
    out
}

/// Checks an MS-CHAPv1 request (NT response only; LM responses are refused). `Ok` holds the
/// Access-Accept attributes (MS-CHAP-MPPE-Keys, policy and types), `Err` the Access-Reject
/// attributes.
pub fn verify_v1(
    request: &Packet,
    secret: &[u8],
    password: &str,
) -> Result<Vec<Attribute>, Vec<Attribute>> {
    let challenge = request.get(attrs::MS_CHAP_CHALLENGE.id());
    let response = request.get(attrs::MS_CHAP_RESPONSE.id());
    let (Some(challenge), Some(response)) = (challenge, response) else {
        return Err(Vec::new());
    };
    let Ok(challenge) = <[u8; 8]>::try_from(challenge) else {
        return Err(Vec::new());
    };
    let Ok(response) = <[u8; RESPONSE_LEN]>::try_from(response) else {
        return Err(Vec::new());
    };
    let ident = response[0];
    let uses_nt = response[1] & 1 == 1;
    let password_hash = nt_password_hash(password);
    if !uses_nt
        || !ct_eq(
            &challenge_response(&challenge, &password_hash),
            &response[26..50],
        )
    {
        return Err(vec![error_attribute(ident, "E=691 R=1")]);
    }
    // MS-CHAP-MPPE-Keys (RFC 2548 §2.4.1): LM key (zeros: no LM hash), NT key, padding.
    let mut keys = [0u8; 24];
    keys[8..].copy_from_slice(&hash_nt_password_hash(&password_hash));
    let mut reply = Vec::with_capacity(3);
    if let Ok(hidden) = hide_password(&keys, secret, &request.authenticator) {
        reply.push(Attribute::new(attrs::MS_CHAP_MPPE_KEYS.id(), hidden));
    }
    reply.push(Attribute::new(
        attrs::MS_MPPE_ENCRYPTION_POLICY.id(),
        POLICY_ALLOWED.to_be_bytes(),
    ));
    reply.push(Attribute::new(
        attrs::MS_MPPE_ENCRYPTION_TYPES.id(),
        TYPES_40_OR_128.to_be_bytes(),
    ));
    Ok(reply)
}

/// The MS-MPPE-Send-Key and -Recv-Key of an Access-Accept, decrypted with the secret and the
/// Request Authenticator of the request it answers.
pub fn mppe_keys(
    reply: &Packet,
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Option<(Vec<u8>, Vec<u8>)> {
    let send = reply.get(attrs::MS_MPPE_SEND_KEY.id())?;
    let recv = reply.get(attrs::MS_MPPE_RECV_KEY.id())?;
    Some((
        salt_decrypt(send, secret, request_authenticator).ok()?,
        salt_decrypt(recv, secret, request_authenticator).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;

    fn request(user: &str) -> Packet {
        let mut request = Packet::new(Code::AccessRequest, 1);
        request.add(attrs::USER_NAME, &user.to_owned());
        request
    }

    #[test]
    fn mschapv2_with_the_right_password_returns_a_success_the_client_accepts() {
        let mut request = request("alice");
        let exchange = add_v2(&mut request, "secret1");
        let reply_attrs = verify_v2(&request, b"s", "secret1").unwrap();
        let mut reply = request.reply(Code::AccessAccept);
        reply.attributes = reply_attrs;
        assert!(exchange.verify_success(&reply));
        let (send, recv) = mppe_keys(&reply, b"s", &request.authenticator).unwrap();
        assert_eq!((send.len(), recv.len()), (16, 16));
        assert_ne!(send, recv);
    }

    #[test]
    fn mschapv2_with_a_wrong_password_is_rejected_with_error_691() {
        let mut request = request("DOMAIN\\alice");
        add_v2(&mut request, "secret1");
        let reply = verify_v2(&request, b"s", "nope").unwrap_err();
        let error = &reply[0].value;
        assert!(error[1..].starts_with(b"E=691 R=1 C="), "{error:?}");
    }

    #[test]
    fn mschapv1_is_checked_against_the_nt_response() {
        let mut request = request("bob");
        add_v1(&mut request, "hunter2");
        assert!(verify_v1(&request, b"s", "hunter2").is_ok());
        assert!(verify_v1(&request, b"s", "hunter3").is_err());
    }

    #[test]
    fn a_forged_success_is_not_accepted() {
        let mut request = request("alice");
        let exchange = add_v2(&mut request, "secret1");
        let mut reply = request.reply(Code::AccessAccept);
        let mut forged = vec![0u8];
        forged.extend_from_slice(b"S=0000000000000000000000000000000000000000");
        reply.set(attrs::MS_CHAP2_SUCCESS, &forged);
        assert!(!exchange.verify_success(&reply));
    }
}
