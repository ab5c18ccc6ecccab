//! Verifies at compile time which types may cross threads: the sockets and
//! everything holding one are `!Send`, plain data is `Send + Sync` (see
//! `send_checks/`; the threaded suite, `threaded.rs`, checks the same with
//! atomics, where types holding JS objects are `!Send` too).
#![cfg(not(target_arch = "wasm32"))]

mod send_checks;

#[test]
fn sockets_are_not_send_and_plain_data_is() {
    send_checks::plain_data_is_send_and_sync();
}
