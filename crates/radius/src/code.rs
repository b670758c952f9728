//! Packet codes (RFC 2865 §3, RFC 2866, RFC 5176, RFC 5997): which codes exist, which are
//! requests, which replies answer which request, and how each request's authenticator is made.

use std::fmt;

/// A RADIUS packet code. Only the codes of RFC 2865, 2866, 5176 and 5997 are accepted: a
/// packet with any other code is refused by the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Code {
    /// Access-Request (1).
    AccessRequest = 1,
    /// Access-Accept (2).
    AccessAccept = 2,
    /// Access-Reject (3).
    AccessReject = 3,
    /// Accounting-Request (4).
    AccountingRequest = 4,
    /// Accounting-Response (5).
    AccountingResponse = 5,
    /// Access-Challenge (11).
    AccessChallenge = 11,
    /// Status-Server (12, RFC 5997).
    StatusServer = 12,
    /// Status-Client (13, reserved by RFC 2865; never answered).
    StatusClient = 13,
    /// Disconnect-Request (40, RFC 5176).
    DisconnectRequest = 40,
    /// Disconnect-ACK (41).
    DisconnectAck = 41,
    /// Disconnect-NAK (42).
    DisconnectNak = 42,
    /// CoA-Request (43, RFC 5176).
    CoaRequest = 43,
    /// CoA-ACK (44).
    CoaAck = 44,
    /// CoA-NAK (45).
    CoaNak = 45,
}

impl Code {
    /// Every known code, in numeric order.
    pub const ALL: [Code; 14] = [
        Code::AccessRequest,
        Code::AccessAccept,
        Code::AccessReject,
        Code::AccountingRequest,
        Code::AccountingResponse,
        Code::AccessChallenge,
        Code::StatusServer,
        Code::StatusClient,
        Code::DisconnectRequest,
        Code::DisconnectAck,
        Code::DisconnectNak,
        Code::CoaRequest,
        Code::CoaAck,
        Code::CoaNak,
    ];

    /// The code for a wire byte, or `None` for an unknown code.
    pub fn from_u8(byte: u8) -> Option<Code> {
        Code::ALL.iter().copied().find(|code| *code as u8 == byte)
    }

    /// The wire byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The name used by RFCs and FreeRADIUS (`Access-Request`, `CoA-ACK`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Code::AccessRequest => "Access-Request",
            Code::AccessAccept => "Access-Accept",
            Code::AccessReject => "Access-Reject",
            Code::AccountingRequest => "Accounting-Request",
            Code::AccountingResponse => "Accounting-Response",
            Code::AccessChallenge => "Access-Challenge",
            Code::StatusServer => "Status-Server",
            Code::StatusClient => "Status-Client",
            Code::DisconnectRequest => "Disconnect-Request",
            Code::DisconnectAck => "Disconnect-ACK",
            Code::DisconnectNak => "Disconnect-NAK",
            Code::CoaRequest => "CoA-Request",
            Code::CoaAck => "CoA-ACK",
            Code::CoaNak => "CoA-NAK",
        }
    }

    /// True for codes a client sends and a server answers.
    pub fn is_request(self) -> bool {
        matches!(
            self,
            Code::AccessRequest
                | Code::AccountingRequest
                | Code::StatusServer
                | Code::StatusClient
                | Code::DisconnectRequest
                | Code::CoaRequest
        )
    }

    /// True when the request's authenticator is the MD5 of the packet over a zeroed
    /// authenticator (Accounting-Request, CoA-Request, Disconnect-Request), rather than 16
    /// random octets (Access-Request, Status-Server).
    pub fn has_computed_request_authenticator(self) -> bool {
        matches!(
            self,
            Code::AccountingRequest | Code::DisconnectRequest | Code::CoaRequest
        )
    }

    /// True when `reply` is a valid answer to a request with this code. Status-Server may be
    /// answered by Access-Accept (auth port) or Accounting-Response (accounting port).
    pub fn accepts_reply(self, reply: Code) -> bool {
        match self {
            Code::AccessRequest => matches!(
                reply,
                Code::AccessAccept | Code::AccessReject | Code::AccessChallenge
            ),
            Code::AccountingRequest => reply == Code::AccountingResponse,
            Code::StatusServer => {
                matches!(reply, Code::AccessAccept | Code::AccountingResponse)
            }
            Code::DisconnectRequest => matches!(reply, Code::DisconnectAck | Code::DisconnectNak),
            Code::CoaRequest => matches!(reply, Code::CoaAck | Code::CoaNak),
            _ => false,
        }
    }

    /// True for the positive replies (Access-Accept, Accounting-Response, CoA-ACK,
    /// Disconnect-ACK).
    pub fn is_positive_reply(self) -> bool {
        matches!(
            self,
            Code::AccessAccept | Code::AccountingResponse | Code::CoaAck | Code::DisconnectAck
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_byte() {
        for code in Code::ALL {
            assert_eq!(Code::from_u8(code.as_u8()), Some(code));
        }
        assert_eq!(Code::from_u8(0), None);
        assert_eq!(Code::from_u8(255), None);
    }

    #[test]
    fn accounting_coa_and_disconnect_requests_have_computed_authenticators() {
        assert!(Code::AccountingRequest.has_computed_request_authenticator());
        assert!(Code::CoaRequest.has_computed_request_authenticator());
        assert!(!Code::AccessRequest.has_computed_request_authenticator());
        assert!(!Code::StatusServer.has_computed_request_authenticator());
    }
}
