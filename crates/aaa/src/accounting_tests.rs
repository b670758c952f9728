use super::*;

#[test]
fn causes_and_port_types_are_named_as_the_dictionary_names_them() {
    assert_eq!(terminate_cause(1), "User-Request");
    assert_eq!(terminate_cause(11), "NAS-Reboot");
    assert_eq!(terminate_cause(18), "Host-Request");
    assert_eq!(terminate_cause(0), "0");
    assert_eq!(terminate_cause(99), "99");
    assert_eq!(port_type(15), "Ethernet");
    assert_eq!(port_type(42), "42");
}

fn pending_record() -> (Pending, oneshot::Receiver<bool>) {
    let (durable, written) = oneshot::channel();
    let record =
        crate::sessions::test_record(AcctKind::Start, &"0".repeat(32), "10.0.0.1", 1_780_000_000);
    (Pending::Record(Box::new(record), durable), written)
}

fn post_auth() -> Pending {
    Pending::PostAuth(PostAuth {
        at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
        username: "alice".to_owned(),
        reply: "Access-Accept",
    })
}

/// Polls `gather` once: `Some` when it had its batch without waiting.
fn at_first_poll(waiting: &mut mpsc::Receiver<Pending>, how: Gather) -> Option<(usize, usize)> {
    let mut gathered = std::pin::pin!(gather(waiting, how));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match gathered.as_mut().poll(&mut context) {
        std::task::Poll::Ready(Some((records, post_auths, _))) => {
            Some((records.len(), post_auths.len()))
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_commit_takes_what_is_queued_and_a_journal_sync_waits_for_its_window() {
    let (queue, mut waiting) = mpsc::channel(16);
    let mut acks = Vec::new();
    let mut queue_records = |n: usize| {
        for _ in 0..n {
            let (pending, ack) = pending_record();
            queue.try_send(pending).unwrap();
            acks.push(ack); // kept open: a dropped receiver is not what is tested
        }
    };
    queue_records(3);
    queue.try_send(post_auth()).unwrap();
    assert_eq!(at_first_poll(&mut waiting, Gather::Queued), Some((3, 1)));
    queue.try_send(post_auth()).unwrap();
    assert_eq!(
        at_first_poll(&mut waiting, Gather::Queued),
        None,
        "authentications to log alone gather for the window"
    );
    let (queue, mut waiting) = mpsc::channel(16);
    let (pending, _ack) = pending_record();
    queue.try_send(pending).unwrap();
    assert_eq!(at_first_poll(&mut waiting, Gather::Window), None);
}
