//! The thread's event loop, natively: what the page's event loop is in a
//! browser. Everything above the backend is single-threaded and driven by
//! callbacks (a socket's events, timers, the crate's own tasks), so natively
//! those callbacks must run on the thread that made the socket. The IO
//! runtime's threads never touch them: they push plain, `Send` jobs into the
//! thread's [`Inbox`], and this thread runs them the next time it drives the
//! loop.
//!
//! The loop is driven from inside this crate's futures: every poll of a
//! socket's stream, sink, `closed()`, the reconnecting socket's streams and
//! the request layer's futures runs the jobs waiting (see [`drive`]), and a
//! new job wakes every task that polled one. So an app that awaits its
//! sockets needs nothing more; code that only uses callbacks, or waits on
//! something else, wraps its future in [`crate::drive`].

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::native::socket::SocketEvent;
use crate::rules::lifecycle::BrowserEvent;

/// Ids of sockets, timers and tasks: unique in the process, so a job can never
/// reach the wrong owner.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// What another thread asks this thread to run.
pub(crate) enum Job {
    Socket(u64, SocketEvent),
    Timer(u64),
    Task(u64),
}

/// The `Send` half of a thread's loop: its queue of jobs, and the tasks to
/// wake when one arrives.
#[derive(Default)]
pub(crate) struct Inbox {
    jobs: Mutex<VecDeque<Job>>,
    wakers: Mutex<Vec<Waker>>,
}

impl Inbox {
    /// Queues `job` and wakes every task of the thread that drove the loop
    /// since the last job.
    pub(crate) fn push(&self, job: Job) {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(job);
        let wakers =
            std::mem::take(&mut *self.wakers.lock().unwrap_or_else(PoisonError::into_inner));
        wakers.into_iter().for_each(Waker::wake);
    }

    fn pop(&self) -> Option<Job> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
    }

    fn register(&self, waker: &Waker) {
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        if !wakers.iter().any(|known| known.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }
}

type LocalTask = Pin<Box<dyn Future<Output = ()>>>;
type OnEvent = Rc<dyn Fn(BrowserEvent)>;

/// The thread's half: what the jobs name.
#[derive(Default)]
struct Local {
    inbox: Arc<Inbox>,
    sockets: RefCell<HashMap<u64, OnEvent>>,
    timers: RefCell<HashMap<u64, Box<dyn FnOnce()>>>,
    tasks: RefCell<HashMap<u64, LocalTask>>,
    /// Set while this thread runs jobs: a poll from inside a job (a task that
    /// awaits a socket) does not run them again.
    driving: Cell<bool>,
}

thread_local! {
    static LOCAL: Local = Local::default();
}

// Every access is `try_with`: while the thread ends its loop is going away,
// and what a destructor starts then (a timer, a task) never runs; nothing
// panics.

/// This thread's inbox, for the IO side of what it starts (a detached one
/// while the thread ends: what reaches it is never run).
pub(crate) fn inbox() -> Arc<Inbox> {
    LOCAL
        .try_with(|local| Arc::clone(&local.inbox))
        .unwrap_or_default()
}

/// Hands a socket's events to `on_event` on this thread, until
/// [`unlisten`].
pub(crate) fn listen(socket: u64, on_event: OnEvent) {
    let _ = LOCAL.try_with(|local| local.sockets.borrow_mut().insert(socket, on_event));
}

pub(crate) fn unlisten(socket: u64) {
    // (`try_with`: the thread may be ending, its loop already gone.)
    let removed = LOCAL.try_with(|local| local.sockets.borrow_mut().remove(&socket));
    drop(removed);
}

/// Runs `callback` on this thread when [`Job::Timer`] with `timer` arrives,
/// unless [`cancel_timer`] comes first.
pub(crate) fn at_timer(timer: u64, callback: Box<dyn FnOnce()>) {
    let _ = LOCAL.try_with(|local| local.timers.borrow_mut().insert(timer, callback));
}

pub(crate) fn cancel_timer(timer: u64) {
    let removed = LOCAL.try_with(|local| local.timers.borrow_mut().remove(&timer));
    drop(removed);
}

/// Runs `task` on this thread, polled when it is woken, until it ends.
pub(crate) fn spawn_local(task: impl Future<Output = ()> + 'static) {
    let id = next_id();
    let _ = LOCAL.try_with(|local| {
        local.tasks.borrow_mut().insert(id, Box::pin(task));
        local.inbox.push(Job::Task(id));
    });
}

/// Runs every job waiting for this thread, and has the task of `cx` woken
/// when the next one arrives.
pub(crate) fn drive(cx: &mut Context<'_>) {
    let _ = LOCAL.try_with(|local| {
        if local.driving.replace(true) {
            return;
        }
        // Cleared even if a callback unwinds.
        let _driving = ClearOnDrop(&local.driving);
        // Registered before running: a job pushed meanwhile wakes this task.
        local.inbox.register(cx.waker());
        while let Some(job) = local.inbox.pop() {
            run(local, job);
        }
    });
}

struct ClearOnDrop<'a>(&'a Cell<bool>);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Runs one job, with no borrow of the loop held while it runs (a job may
/// start sockets, timers and tasks, or drop them).
fn run(local: &Local, job: Job) {
    match job {
        Job::Socket(socket, event) => {
            let on_event = local.sockets.borrow().get(&socket).cloned();
            if let Some(on_event) = on_event {
                on_event(event.into_browser_event());
            }
        }
        Job::Timer(timer) => {
            let callback = local.timers.borrow_mut().remove(&timer);
            if let Some(callback) = callback {
                callback();
            }
        }
        Job::Task(id) => {
            let Some(mut task) = local.tasks.borrow_mut().remove(&id) else {
                return; // already finished: a late wake
            };
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                inbox: Arc::clone(&local.inbox),
            }));
            if task
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
            {
                local.tasks.borrow_mut().insert(id, task);
            }
        }
    }
}

/// Wakes a task of the loop from any thread: queues it to be polled.
struct TaskWaker {
    id: u64,
    inbox: Arc<Inbox>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.inbox.push(Job::Task(self.id));
    }
}

/// The future of [`crate::drive`]: drives the loop at each poll.
pub(crate) struct Driven<F> {
    pub(crate) future: Pin<Box<F>>,
}

impl<F: Future> Future for Driven<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        drive(cx);
        self.future.as_mut().poll(cx)
    }
}
