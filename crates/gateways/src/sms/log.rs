//! The log driver: takes every message and sends none, leaving one `tracing` event with the
//! number masked but for its last three digits, the reference and the text's length. The
//! text itself is never logged: it may be an OTP. Its provider id is `log-{reference}`.

use super::{Accepted, OutgoingSms, mask_number};

/// "Sends" `message` (already validated): logs it and takes it.
pub(super) fn send(message: &OutgoingSms) -> Accepted {
    tracing::info!(
        to = %mask_number(&message.to),
        reference = %message.reference,
        chars = message.text.chars().count(),
        "SMS recorded by the log driver, not sent"
    );
    Accepted {
        provider_id: format!("log-{}", message.reference),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_taken_under_its_reference() {
        let message = OutgoingSms {
            to: "+8801712345678".to_owned(),
            text: "123456 is your code".to_owned(),
            reference: "otp-7".to_owned(),
        };
        assert_eq!(send(&message).provider_id, "log-otp-7");
    }
}
