//! Stream consumer groups (Redis 7.0's streamCG, streamConsumer,
//! streamNACK): a group's last delivered ID and read counter, its global
//! pending entries list (PEL) and its consumers, each with the IDs it owns.
//!
//! Redis shares one NACK between the group PEL and the owner's PEL; here the
//! group PEL holds the NACK (with its owner's name) and each consumer holds
//! the set of IDs it owns. Names are reference-counted so a NACK does not
//! copy its owner's name.

use super::stream::StreamId;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// A pending (delivered, not acknowledged) entry.
#[derive(Clone, Debug)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The owner; None only while loading (resolved by the consumers'
    /// PELs) or for a NACK XCLAIM FORCE just created.
    pub consumer: Option<Rc<[u8]>>,
}

#[derive(Clone, Debug)]
pub struct Consumer {
    pub name: Rc<[u8]>,
    /// Unix ms the consumer was last seen (XINFO CONSUMERS idle).
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Clone, Debug)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read by the group, -1 when unknown (SCG_INVALID_ENTRIES_READ).
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    /// By name, in byte order (Redis's radix tree order).
    pub consumers: BTreeMap<Rc<[u8]>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Creates a consumer; None when one of that name exists.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: i64) -> Option<&mut Consumer> {
        if self.consumers.contains_key(name) {
            return None;
        }
        let name: Rc<[u8]> = Rc::from(name);
        let c = Consumer {
            name: name.clone(),
            seen_time: now_ms,
            pel: BTreeSet::new(),
        };
        Some(self.consumers.entry(name).or_insert(c))
    }

    /// Deletes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Acknowledges `id`; true when it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(owner) = nack.consumer {
            if let Some(c) = self.consumers.get_mut(&owner[..]) {
                c.pel.remove(&id);
            }
        }
        true
    }

    /// Gives the pending entry `id` to `consumer` (which must exist),
    /// taking it from its previous owner.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8]) {
        let Some(nack) = self.pel.get_mut(&id) else {
            return;
        };
        if nack.consumer.as_deref() == Some(consumer) {
            return;
        }
        if let Some(old) = nack.consumer.take() {
            if let Some(c) = self.consumers.get_mut(&old[..]) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
            nack.consumer = Some(c.name.clone());
        }
    }

    /// Delivery of `id` to `consumer` (XREADGROUP >): a new NACK, or a
    /// NACK that was pending for someone else reassigned and reset.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64) -> &Nack {
        let fresh = Nack {
            delivery_time: now_ms,
            delivery_count: 1,
            consumer: None,
        };
        match self.pel.get_mut(&id) {
            Some(n) => {
                n.delivery_time = now_ms;
                n.delivery_count = 1;
            }
            None => {
                self.pel.insert(id, fresh);
            }
        }
        self.assign(id, consumer);
        // Present: inserted or updated just above.
        &self.pel[&id]
    }
}
