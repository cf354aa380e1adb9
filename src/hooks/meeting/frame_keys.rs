//! An encrypted room's frame keys on this page: the frame worker every link encrypts and
//! decrypts through, this page's ECDH key pair, the exchange's rules
//! ([`crate::state::KeyRing`]), and the safety code of the key in use. Web Crypto's work is
//! asynchronous: its results come back to the meeting task as [`KeyEvent`]s, in order with
//! everything else.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use futures_channel::mpsc::UnboundedSender;
use meshmeet_protocol::{ClientMsg, PeerId, RoomName, SealedFrameKey, Signal};
use wasm_bindgen_futures::spawn_local;
use yew::UseReducerDispatcher;

use super::relay_session::RelaySession;
use super::{warn, Input};
use crate::rtc::{
    key_from_passphrase, random_frame_key, safety_code, FrameCrypto, FrameCryptoError, FrameKey,
    KeyPair, SharedFrameCrypto,
};
use crate::state::{Action, KeyRing, KeyStep, Notice, RoomState};

/// How long a new key is only decrypted with before we encrypt with it too: the others
/// receive it at about the same time, and must hold it before our frames name it.
const SWITCH_DELAY_MS: u32 = 300;
/// Keys the worker keeps: the one in use and the two before (frames of participants that
/// switched a moment later, when two keys come in quick succession).
const KEYS_KEPT: usize = 3;

/// What Web Crypto's work gives back to the meeting task.
pub(crate) enum KeyEvent {
    /// Our key pair and the passphrase's key are ready.
    Ready(Rc<Secrets>),
    /// Web Crypto failed to make our secrets or to seal a key.
    Failed(FrameCryptoError),
    /// `from` handed us key `index`.
    Opened {
        from: PeerId,
        index: u8,
        key: FrameKey,
    },
    /// A key `from` sealed for us did not open: another passphrase, or tampered with.
    NotOpened(PeerId, FrameCryptoError),
    /// A key sealed for `to`, to send.
    Sealed { to: PeerId, signal: Signal },
    /// The safety code of key `index`.
    SafetyCode(u8, String),
    /// Time to encrypt with key `index`.
    SwitchDue(u8),
}

/// This page's key pair and the passphrase's key: made once per meeting.
pub(crate) struct Secrets {
    pair: KeyPair,
    salt: FrameKey,
}

/// The frame keys of an encrypted room.
pub(super) struct FrameKeys {
    crypto: SharedFrameCrypto,
    ring: KeyRing<FrameKey>,
    secrets: Option<Rc<Secrets>>,
    /// The others' public keys.
    publics: HashMap<PeerId, String>,
    /// Key messages that came before our secrets were ready.
    waiting: Vec<(PeerId, String, Option<SealedFrameKey>)>,
    /// Numbers of the keys given to the worker, oldest first.
    in_worker: VecDeque<u8>,
    /// The key we encrypt with.
    sending: Option<u8>,
    inputs: UnboundedSender<Input>,
    state: UseReducerDispatcher<RoomState>,
}

impl FrameKeys {
    /// Starts the worker and, in the background, our key pair and the passphrase's key.
    pub(super) fn start(
        passphrase: &str,
        room: &RoomName,
        inputs: UnboundedSender<Input>,
        state: UseReducerDispatcher<RoomState>,
    ) -> Result<FrameKeys, FrameCryptoError> {
        let crypto = SharedFrameCrypto(Rc::new(FrameCrypto::start()?));
        if probe_asked() {
            FrameCrypto::expose_probe(&crypto)?;
        }
        let (passphrase, room, tx) = (passphrase.to_owned(), room.clone(), inputs.clone());
        spawn_local(async move {
            let secrets = async {
                let salt = key_from_passphrase(&passphrase, &room).await?;
                let pair = KeyPair::generate().await?;
                Ok(Secrets { pair, salt })
            };
            let event = match secrets.await {
                Ok(secrets) => KeyEvent::Ready(Rc::new(secrets)),
                Err(err) => KeyEvent::Failed(err),
            };
            let _ = tx.unbounded_send(Input::Keys(event));
        });
        Ok(FrameKeys {
            crypto,
            ring: KeyRing::default(),
            secrets: None,
            publics: HashMap::new(),
            waiting: Vec::new(),
            in_worker: VecDeque::new(),
            sending: None,
            inputs,
            state,
        })
    }

    /// The worker, for the links.
    pub(super) fn crypto(&self) -> SharedFrameCrypto {
        self.crypto.clone()
    }

    /// We entered the room (anew): `others` are there.
    pub(super) fn welcomed(&mut self, self_id: PeerId, others: Vec<PeerId>, relay: &RelaySession) {
        self.publics.clear();
        self.waiting.clear();
        for peer in &others {
            self.send_public(peer, relay);
        }
        let step = self.ring.welcomed(self_id, others);
        self.apply(step);
    }

    pub(super) fn joined(&mut self, peer: PeerId, relay: &RelaySession) {
        self.send_public(&peer, relay);
        let step = self.ring.joined(peer);
        self.apply(step);
    }

    pub(super) fn left(&mut self, peer: &PeerId) {
        self.publics.remove(peer);
        self.waiting.retain(|(from, ..)| from != peer);
        let step = self.ring.left(peer);
        self.apply(step);
    }

    /// Our relay socket came back: what we sent while it was down was lost, so our public
    /// key goes out again, and the key giver hands out a new key.
    pub(super) fn resumed(&mut self, relay: &RelaySession) {
        let others: Vec<PeerId> = self.ring.members().cloned().collect();
        for peer in &others {
            self.send_public(peer, relay);
        }
        let step = self.ring.resumed();
        self.apply(step);
    }

    pub(super) fn tick(&mut self) {
        let step = self.ring.tick();
        self.apply(step);
    }

    /// A `frame_key` signal from `from`.
    pub(super) fn on_signal(
        &mut self,
        from: PeerId,
        public: String,
        sealed: Option<SealedFrameKey>,
    ) {
        let Some(secrets) = self.secrets.clone() else {
            self.waiting.push((from, public, sealed));
            return;
        };
        self.publics.insert(from.clone(), public.clone());
        let (_, step) = self.ring.public_key_from(&from);
        self.apply(step);
        let Some(sealed) = sealed else {
            return;
        };
        let tx = self.inputs.clone();
        spawn_local(async move {
            let event = match secrets
                .pair
                .open(&public, &secrets.salt, sealed.index, &sealed.data)
                .await
            {
                Ok(key) => KeyEvent::Opened {
                    from,
                    index: sealed.index,
                    key,
                },
                Err(err) => KeyEvent::NotOpened(from, err),
            };
            let _ = tx.unbounded_send(Input::Keys(event));
        });
    }

    pub(super) fn on_event(&mut self, event: KeyEvent, relay: &RelaySession) {
        match event {
            KeyEvent::Ready(secrets) => {
                self.secrets = Some(secrets);
                let others: Vec<PeerId> = self.ring.members().cloned().collect();
                for peer in &others {
                    self.send_public(peer, relay);
                }
                for (from, public, sealed) in std::mem::take(&mut self.waiting) {
                    self.on_signal(from, public, sealed);
                }
            }
            KeyEvent::Failed(err) => {
                warn(&format!("frame keys: {err}"));
                self.state
                    .dispatch(Action::NoticeRaised(Notice::FrameKeys(err.to_string())));
            }
            KeyEvent::Opened { from, index, key } => {
                let step = self.ring.key_from(&from, index, key);
                self.apply(step);
            }
            KeyEvent::NotOpened(from, err) => {
                warn(&format!("frame key from {from} did not open: {err}"));
                self.state
                    .dispatch(Action::NoticeRaised(Notice::FrameKeyMismatch));
            }
            KeyEvent::Sealed { to, signal } => relay.send(&ClientMsg::Signal { to, signal }),
            KeyEvent::SafetyCode(index, code) => {
                if self.ring.used_index() == Some(index) {
                    self.state.dispatch(Action::SafetyCode(Some(code)));
                }
            }
            KeyEvent::SwitchDue(index) => {
                if self.ring.used_index() == Some(index) {
                    self.send_with(index);
                }
            }
        }
    }

    /// Sends our public key to `peer`, once we have one (the rest go out when it is ready).
    fn send_public(&self, peer: &PeerId, relay: &RelaySession) {
        if let Some(secrets) = &self.secrets {
            relay.send(&ClientMsg::Signal {
                to: peer.clone(),
                signal: Signal::FrameKey {
                    public: secrets.pair.public().to_owned(),
                    sealed: None,
                },
            });
        }
    }

    fn apply(&mut self, step: Option<KeyStep<FrameKey>>) {
        match step {
            None => {}
            Some(KeyStep::Use { index, key }) => self.install(index, key),
            Some(KeyStep::Make { index, to }) => {
                let key = match random_frame_key() {
                    Ok(key) => key,
                    Err(err) => return self.on_failure(err),
                };
                self.install(index, key);
                let Some(secrets) = self.secrets.clone() else {
                    // Nobody to seal it for yet (their public keys wait for our secrets).
                    return;
                };
                for peer in to {
                    let Some(public) = self.publics.get(&peer).cloned() else {
                        continue;
                    };
                    let (secrets, tx) = (Rc::clone(&secrets), self.inputs.clone());
                    spawn_local(async move {
                        let event =
                            match secrets.pair.seal(&public, &secrets.salt, index, &key).await {
                                Ok(data) => KeyEvent::Sealed {
                                    to: peer,
                                    signal: Signal::FrameKey {
                                        public: secrets.pair.public().to_owned(),
                                        sealed: Some(SealedFrameKey { index, data }),
                                    },
                                },
                                Err(err) => KeyEvent::Failed(err),
                            };
                        let _ = tx.unbounded_send(Input::Keys(event));
                    });
                }
            }
        }
    }

    /// Gives key `index` to the worker: it decrypts with it at once, and encrypts with it
    /// after [`SWITCH_DELAY_MS`] (at once if it had none).
    fn install(&mut self, index: u8, key: FrameKey) {
        if let Err(err) = self.crypto.0.set_key(index, &key) {
            return self.on_failure(err);
        }
        self.in_worker.retain(|i| *i != index);
        self.in_worker.push_back(index);
        self.state.dispatch(Action::SafetyCode(None));
        let tx = self.inputs.clone();
        spawn_local(async move {
            if let Ok(code) = safety_code(&key).await {
                let _ = tx.unbounded_send(Input::Keys(KeyEvent::SafetyCode(index, code)));
            }
        });
        if self.sending.is_none() {
            self.send_with(index);
            return;
        }
        let tx = self.inputs.clone();
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(SWITCH_DELAY_MS).await;
            let _ = tx.unbounded_send(Input::Keys(KeyEvent::SwitchDue(index)));
        });
    }

    /// Encrypts with key `index` from now on, and forgets keys older than the one before.
    fn send_with(&mut self, index: u8) {
        if let Err(err) = self.crypto.0.send_with(index) {
            return self.on_failure(err);
        }
        self.sending = Some(index);
        while self.in_worker.len() > KEYS_KEPT {
            if let Some(old) = self.in_worker.pop_front() {
                let _ = self.crypto.0.forget_key(old);
            }
        }
    }

    fn on_failure(&self, err: FrameCryptoError) {
        warn(&format!("frame keys: {err}"));
        self.state
            .dispatch(Action::NoticeRaised(Notice::FrameKeys(err.to_string())));
    }
}

/// Whether the page was opened with `?e2ee_probe` (tests: see [`FrameCrypto::expose_probe`]).
fn probe_asked() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| crate::state::query_value(&q, "e2ee_probe").is_some())
}
