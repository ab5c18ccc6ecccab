//! One connection for every tab: the protocol the tabs of one origin speak
//! among themselves, as a pure state machine.
//!
//! One tab leads (it holds the lock) and owns the connection. Every tab, the
//! leader included, numbers its own messages 1, 2, 3, ... and keeps each until
//! the leader says it was handed to the connection (an `Ack`, seen by every
//! tab). The leader takes a tab's message only if it is the next one after
//! the last handed over, so a tab's messages reach the server once and in its
//! order; a tab posts all it still holds again whenever a leader reports a
//! connection, which makes a change of leader lose nothing. Messages from the
//! server are delivered by the leader to itself and posted to every other tab.

use std::collections::{HashMap, VecDeque};

use crate::rules::close::CloseEvent;
use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

/// A tab's random name, unique among the tabs of the origin.
pub(crate) type TabId = String;

/// What this tab is to the shared connection.
///
/// # Example
///
/// ```no_run
/// use browser_websocket::tabs::{Role, SharedWebSocket};
/// let socket = SharedWebSocket::connect("/live");
/// if socket.role() == Role::Leader {
///     web_sys::console::log_1(&"this tab holds the connection".into());
/// }
/// ```
///
/// New roles may be added: a `match` needs a `_` arm.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Waiting to hear from a leading tab, or to lead; also while the page
    /// is in the back/forward cache (this tab has stepped out).
    Electing,
    /// This tab holds the connection for every tab of the name.
    Leader,
    /// Another tab holds the connection; this one relays through it.
    Follower,
    /// The browser lacks what sharing needs: this tab has its own connection.
    PerTab,
}

/// What happened to a [`SharedWebSocket`](crate::tabs::SharedWebSocket), in
/// this tab.
///
/// # Example
///
/// ```no_run
/// use browser_websocket::tabs::{SharedEvent, SharedWebSocket};
/// let socket = SharedWebSocket::builder("/live")
///     .on_event(|event| {
///         if let SharedEvent::PerTab { missing } = event {
///             web_sys::console::warn_1(&format!("no sharing: {missing} is missing").into());
///         }
///     })
///     .connect();
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SharedEvent {
    /// This tab now holds the connection (it connects next).
    Leading,
    /// Another tab holds the connection.
    Following,
    /// The browser lacks `missing` (`"BroadcastChannel"` or `"Web Locks"`):
    /// this tab connects on its own, as a reconnecting socket.
    PerTab {
        /// The API the browser lacks.
        missing: &'static str,
    },
    /// The shared connection is open.
    Connected,
    /// The shared connection is down, or this tab's page went into the
    /// back/forward cache; the leading tab reconnects (or, back from the
    /// cache, this tab joins again), and messages sent meanwhile wait in the
    /// tab that sent them.
    Disconnected,
    /// The connection closed for good (the leader's reconnect policy ended
    /// it); no tab reconnects.
    Ended {
        /// The last close.
        close: CloseEvent,
    },
}

/// What the tabs post to each other.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Envelope {
    /// A tab's `seq`-th message for the server; the tab knows all up to
    /// `after` handed to the connection.
    Send {
        tab: TabId,
        seq: u64,
        after: u64,
        message: Message,
    },
    /// The leader handed `tab`'s messages up to `seq` to the connection.
    Ack { tab: TabId, seq: u64 },
    /// A message from the server.
    Incoming { message: Message },
    /// The leader's state, posted when it changes and when a tab says hello.
    Status { leader: TabId, connected: bool },
    /// A new tab asks who leads.
    Hello { tab: TabId },
    /// The connection closed for good.
    Ended { close: CloseEvent },
}

/// What happens to the machine.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Input {
    /// The app sends a message (checked first with [`TabMachine::check_room`]).
    AppSend(Message),
    /// This tab got the lock: it leads.
    Elected,
    /// Sharing is impossible here: this tab leads alone.
    Alone { missing: &'static str },
    /// Another tab posted this.
    Posted(Envelope),
    /// (Leader) its connection opened.
    Connected,
    /// (Leader) its connection closed; it reconnects.
    Disconnected,
    /// (Leader) its connection closed for good.
    Ended(CloseEvent),
    /// (Leader) a message from the server.
    ServerMessage(Message),
    /// (Leader) the result of a [`Command::Transmit`].
    Transmitted { tab: TabId, seq: u64, handed: bool },
    /// The page entered the back/forward cache: this tab steps out until it
    /// is back (a frozen page must not hold the lock, nor miss the channel's
    /// messages unawares).
    Away,
    /// The page is back from the cache: this tab joins again.
    Back,
}

/// What the driver does.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Command {
    /// Post to every other tab.
    Post(Envelope),
    /// (Leader) hand this to the connection, and report with
    /// [`Input::Transmitted`] whether it was taken.
    Transmit {
        tab: TabId,
        seq: u64,
        message: Message,
    },
    /// Give this to the app.
    Deliver(Message),
    /// Tell the app.
    Report(SharedEvent),
    /// (Leader) open the connection this tab now owns.
    OpenConnection,
    /// Let go of the lock, the channel and any connection: the page is going
    /// into the back/forward cache.
    StepOut,
    /// Take part again: a new channel and lock request, then `hello`.
    Rejoin,
    /// The app's stream ends.
    End,
}

/// The protocol of one tab.
#[derive(Debug)]
pub(crate) struct TabMachine {
    tab: TabId,
    role: Role,
    connected: bool,
    ended: bool,
    /// Stepped out ([`Input::Away`]) and not back yet.
    away: bool,
    next_seq: u64,
    /// This tab's messages not yet handed to the connection, in order.
    pending: VecDeque<(u64, Message)>,
    /// Per tab, the last message the leader (any leader) handed over.
    handed: HashMap<TabId, u64>,
    max_pending: usize,
}

impl TabMachine {
    pub(crate) fn new(tab: TabId, max_pending: usize) -> Self {
        Self {
            tab,
            role: Role::Electing,
            connected: false,
            ended: false,
            away: false,
            next_seq: 1,
            pending: VecDeque::new(),
            handed: HashMap::new(),
            max_pending,
        }
    }

    /// The first message: ask who leads.
    pub(crate) fn hello(&self) -> Command {
        Command::Post(Envelope::Hello {
            tab: self.tab.clone(),
        })
    }

    pub(crate) fn role(&self) -> Role {
        self.role
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connected
    }

    #[cfg(test)]
    pub(crate) fn is_ended(&self) -> bool {
        self.ended
    }

    /// This tab's messages still waiting for the connection.
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Whether the app may send one more message now.
    pub(crate) fn check_room(&self) -> Result<()> {
        if self.ended {
            return Err(Error::NotOpen {
                state: crate::rules::message::ReadyState::Closed,
            });
        }
        if self.pending.len() >= self.max_pending {
            return Err(Error::QueueFull {
                messages: self.pending.len(),
                bytes: self
                    .pending
                    .iter()
                    .filter_map(|(_, message)| message.len())
                    .sum(),
            });
        }
        Ok(())
    }

    pub(crate) fn handle(&mut self, input: Input) -> Vec<Command> {
        let mut commands = Vec::new();
        match input {
            Input::AppSend(message) => self.app_send(message, &mut commands),
            Input::Elected => self.lead(SharedEvent::Leading, Role::Leader, &mut commands),
            Input::Alone { missing } => {
                self.lead(SharedEvent::PerTab { missing }, Role::PerTab, &mut commands)
            }
            Input::Posted(envelope) => self.posted(envelope, &mut commands),
            Input::Connected => self.set_connected(true, &mut commands),
            Input::Disconnected => self.set_connected(false, &mut commands),
            Input::Ended(close) => {
                commands.push(Command::Post(Envelope::Ended {
                    close: close.clone(),
                }));
                self.end(close, &mut commands);
            }
            Input::ServerMessage(message) => {
                if self.role == Role::Leader {
                    commands.push(Command::Post(Envelope::Incoming {
                        message: message.clone(),
                    }));
                }
                commands.push(Command::Deliver(message));
            }
            Input::Away => self.step_out(&mut commands),
            Input::Back => {
                if std::mem::replace(&mut self.away, false) && !self.ended {
                    commands.push(Command::Rejoin);
                }
            }
            Input::Transmitted { tab, seq, handed } => {
                if handed {
                    self.mark_handed(&tab, seq);
                    if tab == self.tab {
                        self.relay_own(&mut commands);
                    } else if self.role == Role::Leader {
                        commands.push(Command::Post(Envelope::Ack { tab, seq }));
                    }
                }
            }
        }
        commands
    }

    fn leads(&self) -> bool {
        matches!(self.role, Role::Leader | Role::PerTab)
    }

    fn app_send(&mut self, message: Message, commands: &mut Vec<Command>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back((seq, message.clone()));
        if self.leads() {
            self.relay_own(commands);
        } else {
            commands.push(Command::Post(Envelope::Send {
                tab: self.tab.clone(),
                seq,
                after: self.handed_of(&self.tab),
                message,
            }));
        }
    }

    fn lead(&mut self, event: SharedEvent, role: Role, commands: &mut Vec<Command>) {
        if self.ended || self.leads() {
            return;
        }
        self.role = role;
        // Connected as a follower: that connection is gone with its leader.
        if std::mem::replace(&mut self.connected, false) {
            commands.push(Command::Report(SharedEvent::Disconnected));
        }
        commands.push(Command::Report(event));
        commands.push(Command::OpenConnection);
        if role == Role::Leader {
            commands.push(self.status());
        }
    }

    /// Leaves the sharing until [`Input::Back`]: no role, no connection; the
    /// tab's own messages wait, and go once it follows or leads again. A tab
    /// with a connection of its own (`PerTab`) keeps it: that connection
    /// follows the page's life by itself.
    fn step_out(&mut self, commands: &mut Vec<Command>) {
        if self.ended || matches!(self.role, Role::PerTab) {
            return;
        }
        self.role = Role::Electing;
        self.away = true;
        if std::mem::replace(&mut self.connected, false) {
            commands.push(Command::Report(SharedEvent::Disconnected));
        }
        commands.push(Command::StepOut);
    }

    fn status(&self) -> Command {
        Command::Post(Envelope::Status {
            leader: self.tab.clone(),
            connected: self.connected,
        })
    }

    fn set_connected(&mut self, connected: bool, commands: &mut Vec<Command>) {
        if !self.leads() || self.ended || self.connected == connected {
            return;
        }
        self.connected = connected;
        commands.push(Command::Report(if connected {
            SharedEvent::Connected
        } else {
            SharedEvent::Disconnected
        }));
        if self.role == Role::Leader {
            commands.push(self.status());
        }
        if connected {
            self.relay_own(commands);
        }
    }

    fn end(&mut self, close: CloseEvent, commands: &mut Vec<Command>) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.connected = false;
        commands.push(Command::Report(SharedEvent::Ended { close }));
        commands.push(Command::End);
    }

    fn posted(&mut self, envelope: Envelope, commands: &mut Vec<Command>) {
        if self.ended || self.role == Role::PerTab {
            return;
        }
        match envelope {
            Envelope::Send {
                tab,
                seq,
                after,
                message,
            } => {
                if self.role == Role::Leader {
                    self.relay(tab, seq, after, message, commands);
                }
            }
            Envelope::Ack { tab, seq } => self.mark_handed(&tab, seq),
            // Only a leader posts these, and never to itself: a tab that leads
            // now gets one only from the leader before it, sent before that
            // one left (the lock can reach this tab before the channel's last
            // messages do), so it is a message this tab has not seen.
            Envelope::Incoming { message } => commands.push(Command::Deliver(message)),
            Envelope::Status { leader, connected } => {
                if leader != self.tab && self.role != Role::Leader {
                    self.follow(connected, commands);
                }
            }
            Envelope::Hello { tab } => {
                if self.role == Role::Leader && tab != self.tab {
                    commands.push(self.status());
                }
            }
            Envelope::Ended { close } => {
                if self.role != Role::Leader {
                    self.end(close, commands);
                }
            }
        }
    }

    fn follow(&mut self, connected: bool, commands: &mut Vec<Command>) {
        if self.role == Role::Electing {
            self.role = Role::Follower;
            commands.push(Command::Report(SharedEvent::Following));
        }
        if self.connected != connected {
            self.connected = connected;
            commands.push(Command::Report(if connected {
                SharedEvent::Connected
            } else {
                SharedEvent::Disconnected
            }));
        }
        if connected {
            let after = self.handed_of(&self.tab);
            for (seq, message) in &self.pending {
                commands.push(Command::Post(Envelope::Send {
                    tab: self.tab.clone(),
                    seq: *seq,
                    after,
                    message: message.clone(),
                }));
            }
        }
    }

    /// (Leader) Hands `tab`'s `seq`-th message to the connection if it is the
    /// next one of that tab; confirms again one already handed over.
    fn relay(
        &mut self,
        tab: TabId,
        seq: u64,
        after: u64,
        message: Message,
        commands: &mut Vec<Command>,
    ) {
        let handed = self.handed_of(&tab).max(after);
        self.handed.insert(tab.clone(), handed);
        if seq <= handed {
            if tab != self.tab {
                commands.push(Command::Post(Envelope::Ack { tab, seq: handed }));
            }
        } else if seq == handed + 1 && self.connected {
            commands.push(Command::Transmit { tab, seq, message });
        }
    }

    /// (Leader) Offers this tab's own waiting messages to the connection, in
    /// order. Each is taken only after the one before it was (see `relay`).
    fn relay_own(&mut self, commands: &mut Vec<Command>) {
        if !self.connected {
            return;
        }
        if let Some((seq, message)) = self.pending.front().cloned() {
            commands.push(Command::Transmit {
                tab: self.tab.clone(),
                seq,
                message,
            });
        }
    }

    fn handed_of(&self, tab: &str) -> u64 {
        self.handed.get(tab).copied().unwrap_or(0)
    }

    fn mark_handed(&mut self, tab: &str, seq: u64) {
        let handed = self.handed_of(tab).max(seq);
        self.handed.insert(tab.to_owned(), handed);
        if tab == self.tab {
            while self.pending.front().is_some_and(|(s, _)| *s <= handed) {
                self.pending.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tabs joined by a channel that delivers each post to every other live
    /// tab in order, with a server that records what leaders hand it.
    struct World {
        tabs: Vec<(TabMachine, Vec<Message>, Vec<SharedEvent>)>,
        alive: Vec<bool>,
        /// Per leader's connection: open or not.
        open: bool,
        server: Vec<Message>,
        in_flight: VecDeque<(usize, Envelope)>,
    }

    impl World {
        fn new(tabs: usize) -> Self {
            Self {
                tabs: (0..tabs)
                    .map(|i| (TabMachine::new(format!("tab{i}"), 100), vec![], vec![]))
                    .collect(),
                alive: vec![true; tabs],
                open: false,
                server: vec![],
                in_flight: VecDeque::new(),
            }
        }

        fn input(&mut self, tab: usize, input: Input) {
            let commands = self.tabs[tab].0.handle(input);
            self.run(tab, commands);
        }

        fn run(&mut self, tab: usize, commands: Vec<Command>) {
            for command in commands {
                match command {
                    Command::Post(envelope) => self.in_flight.push_back((tab, envelope)),
                    Command::Transmit {
                        tab: from,
                        seq,
                        message,
                    } => {
                        if self.open {
                            self.server.push(message);
                        }
                        let handed = self.open;
                        self.input(
                            tab,
                            Input::Transmitted {
                                tab: from,
                                seq,
                                handed,
                            },
                        );
                    }
                    Command::Deliver(message) => self.tabs[tab].1.push(message),
                    Command::Report(event) => self.tabs[tab].2.push(event),
                    Command::StepOut => self.alive[tab] = false,
                    Command::Rejoin => {
                        self.alive[tab] = true;
                        let hello = self.tabs[tab].0.hello();
                        self.run(tab, vec![hello]);
                    }
                    Command::OpenConnection | Command::End => {}
                }
            }
        }

        /// Delivers everything posted, including what the deliveries post.
        fn settle(&mut self) {
            while let Some((from, envelope)) = self.in_flight.pop_front() {
                if !self.alive[from] {
                    continue;
                }
                for to in 0..self.tabs.len() {
                    if to != from && self.alive[to] {
                        self.input(to, Input::Posted(envelope.clone()));
                    }
                }
            }
        }

        fn send(&mut self, tab: usize, text: &str) {
            self.tabs[tab].0.check_room().unwrap();
            self.input(tab, Input::AppSend(Message::from(text)));
        }

        fn connect(&mut self, leader: usize) {
            self.open = true;
            self.input(leader, Input::Connected);
        }

        fn disconnect(&mut self, leader: usize) {
            self.open = false;
            self.input(leader, Input::Disconnected);
        }

        fn server_texts(&self) -> Vec<&str> {
            self.server.iter().filter_map(Message::as_text).collect()
        }
    }

    fn started(tabs: usize) -> World {
        let mut world = World::new(tabs);
        for tab in 0..tabs {
            let hello = world.tabs[tab].0.hello();
            world.run(tab, vec![hello]);
        }
        world.input(0, Input::Elected);
        world.settle();
        world.connect(0);
        world.settle();
        world
    }

    #[test]
    fn one_leader_and_followers_that_hear_it() {
        let world = started(3);
        assert_eq!(world.tabs[0].0.role(), Role::Leader);
        assert_eq!(
            world.tabs[0].2,
            [SharedEvent::Leading, SharedEvent::Connected]
        );
        for tab in 1..3 {
            assert_eq!(world.tabs[tab].0.role(), Role::Follower);
            assert_eq!(
                world.tabs[tab].2,
                [SharedEvent::Following, SharedEvent::Connected]
            );
        }
    }

    #[test]
    fn every_tabs_messages_reach_the_server_once_in_order() {
        let mut world = started(3);
        for i in 0..3 {
            world.send(1, &format!("b{i}"));
            world.send(0, &format!("a{i}"));
            world.send(2, &format!("c{i}"));
        }
        world.settle();
        let server = world.server_texts();
        assert_eq!(server.len(), 9);
        for prefix in ["a", "b", "c"] {
            let of_tab: Vec<_> = server.iter().filter(|t| t.starts_with(prefix)).collect();
            assert_eq!(
                of_tab,
                [
                    &format!("{prefix}0"),
                    &format!("{prefix}1"),
                    &format!("{prefix}2")
                ]
            );
        }
        assert!(world
            .tabs
            .iter()
            .all(|(machine, ..)| machine.pending() == 0));
    }

    #[test]
    fn server_messages_reach_every_tab_in_order() {
        let mut world = started(3);
        for i in 0..5 {
            world.input(0, Input::ServerMessage(Message::from(format!("m{i}"))));
        }
        world.settle();
        for (_, delivered, _) in &world.tabs {
            let texts: Vec<_> = delivered.iter().filter_map(Message::as_text).collect();
            assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4"]);
        }
    }

    #[test]
    fn messages_sent_while_down_wait_in_their_tab_and_go_in_order() {
        let mut world = started(2);
        world.send(1, "before");
        world.settle();
        world.disconnect(0);
        world.settle();
        assert_eq!(world.tabs[1].2.last(), Some(&SharedEvent::Disconnected));
        world.send(1, "during 1");
        world.send(0, "leader during");
        world.send(1, "during 2");
        world.settle();
        assert_eq!(world.server_texts(), ["before"]);
        assert_eq!(world.tabs[1].0.pending(), 2);
        world.connect(0);
        world.settle();
        assert_eq!(
            world.server_texts(),
            ["before", "leader during", "during 1", "during 2"]
        );
        assert_eq!(world.tabs[1].0.pending(), 0);
    }

    #[test]
    fn a_new_leader_takes_over_and_nothing_is_lost_or_repeated() {
        let mut world = started(3);
        world.send(1, "b1");
        world.send(2, "c1");
        world.settle();
        // The leader goes; its posts in flight die with it.
        world.alive[0] = false;
        world.open = false;
        world.send(1, "b2");
        world.send(2, "c2");
        world.settle();
        world.input(1, Input::Elected);
        world.settle();
        assert_eq!(world.tabs[2].2.last(), Some(&SharedEvent::Disconnected));
        world.connect(1);
        world.settle();
        let server = world.server_texts();
        assert_eq!(server, ["b1", "c1", "b2", "c2"]);
        assert_eq!(
            world.tabs[1].2[2..],
            [
                SharedEvent::Disconnected,
                SharedEvent::Leading,
                SharedEvent::Connected
            ]
        );
    }

    #[test]
    fn a_leader_going_into_the_cache_steps_out_and_follows_when_back() {
        let mut world = started(3);
        world.send(0, "a1");
        world.settle();
        world.input(0, Input::Away);
        world.open = false;
        assert_eq!(world.tabs[0].0.role(), Role::Electing);
        assert!(!world.tabs[0].0.is_connected());
        assert_eq!(world.tabs[0].2.last(), Some(&SharedEvent::Disconnected));
        // Its lock released, another tab leads; sent while away waits.
        world.send(0, "a2 while away");
        world.send(2, "c1");
        world.input(1, Input::Elected);
        world.connect(1);
        world.settle();
        assert_eq!(world.server_texts(), ["a1", "c1"]);
        assert_eq!(world.tabs[0].0.pending(), 1);
        // Back: it hears the leader, follows, and its waiting message goes.
        world.input(0, Input::Back);
        world.settle();
        assert_eq!(world.tabs[0].0.role(), Role::Follower);
        assert_eq!(
            world.tabs[0].2[2..],
            [
                SharedEvent::Disconnected,
                SharedEvent::Following,
                SharedEvent::Connected
            ]
        );
        assert_eq!(world.server_texts(), ["a1", "c1", "a2 while away"]);
        assert_eq!(world.tabs[0].0.pending(), 0);
        world.input(1, Input::ServerMessage(Message::from("to all")));
        world.settle();
        assert!(world.tabs.iter().all(|(_, delivered, _)| {
            delivered.last().and_then(Message::as_text) == Some("to all")
        }));
    }

    #[test]
    fn a_follower_back_from_the_cache_follows_again_and_may_lead() {
        let mut world = started(2);
        world.input(1, Input::Away);
        assert_eq!(world.tabs[1].0.role(), Role::Electing);
        // Back only after Away; a second Back does nothing.
        world.input(1, Input::Back);
        world.input(1, Input::Back);
        world.settle();
        assert_eq!(world.tabs[1].0.role(), Role::Follower);
        assert!(world.tabs[1].0.is_connected());
        // Its lock request is new: it leads when the leader leaves.
        world.alive[0] = false;
        world.open = false;
        world.input(1, Input::Elected);
        assert_eq!(world.tabs[1].0.role(), Role::Leader);
        let fresh = TabMachine::new("fresh".into(), 10).handle(Input::Back);
        assert!(fresh.is_empty(), "{fresh:?}");
    }

    #[test]
    fn a_per_tab_connection_does_not_step_out() {
        let mut machine = TabMachine::new("alone".into(), 10);
        machine.handle(Input::Alone {
            missing: "Web Locks",
        });
        assert!(machine.handle(Input::Away).is_empty());
        assert_eq!(machine.role(), Role::PerTab);
    }

    #[test]
    fn a_message_the_old_leader_handed_over_is_not_sent_again() {
        let mut world = started(3);
        world.send(2, "c1");
        world.settle();
        // Tab 2 never saw the ack (say it was slow), and a new leader, which
        // saw it, takes over: the repeat is recognized and confirmed.
        world.tabs[2].0.pending.push_back((1, Message::from("c1")));
        world.alive[0] = false;
        world.open = false;
        world.input(1, Input::Elected);
        world.connect(1);
        world.settle();
        assert_eq!(world.server_texts(), ["c1"]);
        assert_eq!(world.tabs[2].0.pending(), 0);
    }

    #[test]
    fn a_message_the_old_leader_relayed_reaches_a_tab_that_leads_since() {
        let mut world = started(2);
        // The leader relays a message and leaves; the lock reaches tab 1
        // before the relayed message does (browsers do not order the two).
        world.input(0, Input::ServerMessage(Message::from("last")));
        let relayed: Vec<_> = world.in_flight.drain(..).collect();
        world.alive[0] = false;
        world.open = false;
        world.input(1, Input::Elected);
        for (_, envelope) in relayed {
            world.input(1, Input::Posted(envelope));
        }
        world.settle();
        let texts: Vec<_> = world.tabs[1]
            .1
            .iter()
            .filter_map(Message::as_text)
            .collect();
        assert_eq!(texts, ["last"]);
    }

    #[test]
    fn a_gap_waits_for_the_repeat_instead_of_reordering() {
        let mut world = started(2);
        // The leader misses message 1 (sent while it was down), then hears 2.
        world.disconnect(0);
        world.send(1, "one");
        world.settle();
        world.open = true;
        world.tabs[0].0.connected = true;
        world.send(1, "two");
        world.settle();
        assert!(world.server_texts().is_empty());
        world.tabs[0].0.connected = false;
        world.connect(0);
        world.settle();
        assert_eq!(world.server_texts(), ["one", "two"]);
    }

    #[test]
    fn the_end_reaches_every_tab() {
        let mut world = started(2);
        let close = CloseEvent {
            code: 4001.into(),
            reason: "no".into(),
            was_clean: true,
        };
        world.input(0, Input::Ended(close.clone()));
        world.settle();
        for (machine, _, events) in &world.tabs {
            assert!(machine.is_ended());
            assert_eq!(
                events.last(),
                Some(&SharedEvent::Ended {
                    close: close.clone()
                })
            );
        }
        assert!(matches!(
            world.tabs[1].0.check_room(),
            Err(Error::NotOpen { .. })
        ));
    }

    #[test]
    fn alone_it_sends_directly() {
        let mut world = World::new(1);
        world.input(
            0,
            Input::Alone {
                missing: "Web Locks",
            },
        );
        world.send(0, "queued");
        world.connect(0);
        world.send(0, "direct");
        assert_eq!(world.server_texts(), ["queued", "direct"]);
        assert_eq!(world.tabs[0].0.role(), Role::PerTab);
        assert_eq!(
            world.tabs[0].2,
            [
                SharedEvent::PerTab {
                    missing: "Web Locks"
                },
                SharedEvent::Connected
            ]
        );
        assert!(world.in_flight.is_empty());
    }

    #[test]
    fn a_full_queue_is_a_typed_error() {
        let mut machine = TabMachine::new("t".into(), 2);
        machine.handle(Input::AppSend(Message::from("ab")));
        machine.handle(Input::AppSend(Message::from("cd")));
        assert_eq!(
            machine.check_room(),
            Err(Error::QueueFull {
                messages: 2,
                bytes: 4
            })
        );
    }
}
