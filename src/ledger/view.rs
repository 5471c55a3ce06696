//! A member's history as written, borrowed: what the static check ([`super::request::check`])
//! reads.
//!
//! Why views: a simulation reads millions of member lines, and owning every id, instant and
//! category of every event (a `String` each) was about half of what reading and checking a
//! line cost. The simulator's fast reader (`json::fast`) borrows these strings from the line
//! itself; the owned request types ([`ReplayRequest`], the simulator's `MemberHistory`) lend
//! theirs through `view()`. Either way one check, one replay: the views carry exactly the
//! fields of the owned types, with the same meaning.

use super::request::{
    Event, EventCart, EventType, LedgerMember, QuotedMember, RefundLine, ReplayRequest,
};
use crate::member::MemberStatus;
use crate::quote::{LineText, RedeemPoints};

/// [`LedgerMember`], borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberView<'a> {
    pub id: &'a str,
    pub status: MemberStatus,
    pub joined_at: &'a str,
}

/// A member and their events: a §3 replay request without `as_of`, borrowed.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryView<'a> {
    pub member: MemberView<'a>,
    pub events: Vec<EventView<'a>>,
}

/// [`Event`], borrowed: `id`, `type`, `at`, and whichever other fields were written.
#[derive(Clone, Debug, PartialEq)]
pub struct EventView<'a> {
    pub id: &'a str,
    pub kind: EventType,
    pub at: &'a str,
    pub cart: Option<CartView<'a>>,
    pub redeem_points: Option<RedeemPoints>,
    pub earn: Option<bool>,
    pub order_id: Option<&'a str>,
    pub lines: Option<Vec<RefundLineView<'a>>>,
    pub points: Option<i64>,
    pub reason: Option<&'a str>,
    pub counts_for_tier: Option<bool>,
    pub expires_at: Option<&'a str>,
    pub tier: Option<&'a str>,
    pub locked_until: Option<&'a str>,
    pub status: Option<MemberStatus>,
    pub reward_id: Option<&'a str>,
    pub policy_digest: Option<&'a str>,
    pub quoted_member: Option<QuotedMemberView<'a>>,
}

/// [`QuotedMember`], borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedMemberView<'a> {
    pub status: MemberStatus,
    pub tier: Option<&'a str>,
    pub points: i64,
}

impl QuotedMember {
    pub fn view(&self) -> QuotedMemberView<'_> {
        QuotedMemberView {
            status: self.status,
            tier: self.tier.as_deref(),
            points: self.points,
        }
    }
}

/// [`EventCart`], borrowed.
#[derive(Clone, Debug, PartialEq)]
pub struct CartView<'a> {
    pub id: Option<&'a str>,
    pub at: Option<&'a str>,
    pub store: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub lines: Vec<LineText<'a>>,
}

/// [`RefundLine`], borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefundLineView<'a> {
    pub line_id: &'a str,
    pub quantity: i64,
}

impl LedgerMember {
    pub fn view(&self) -> MemberView<'_> {
        MemberView {
            id: &self.id,
            status: self.status,
            joined_at: &self.joined_at,
        }
    }
}

impl EventCart {
    pub fn view(&self) -> CartView<'_> {
        CartView {
            id: self.id.as_deref(),
            at: self.at.as_deref(),
            store: self.store.as_deref(),
            channel: self.channel.as_deref(),
            lines: self.lines.iter().map(|l| l.text()).collect(),
        }
    }
}

impl RefundLine {
    pub fn view(&self) -> RefundLineView<'_> {
        RefundLineView {
            line_id: &self.line_id,
            quantity: self.quantity,
        }
    }
}

impl Event {
    pub fn view(&self) -> EventView<'_> {
        EventView {
            id: &self.id,
            kind: self.kind,
            at: &self.at,
            cart: self.cart.as_ref().map(EventCart::view),
            redeem_points: self.redeem_points,
            earn: self.earn,
            order_id: self.order_id.as_deref(),
            lines: self
                .lines
                .as_ref()
                .map(|ls| ls.iter().map(RefundLine::view).collect()),
            points: self.points,
            reason: self.reason.as_deref(),
            counts_for_tier: self.counts_for_tier,
            expires_at: self.expires_at.as_deref(),
            tier: self.tier.as_deref(),
            locked_until: self.locked_until.as_deref(),
            status: self.status,
            reward_id: self.reward_id.as_deref(),
            policy_digest: self.policy_digest.as_deref(),
            quoted_member: self.quoted_member.as_ref().map(QuotedMember::view),
        }
    }
}

impl<'a> HistoryView<'a> {
    /// The view of an owned member and events.
    pub fn of(member: &'a LedgerMember, events: &'a [Event]) -> HistoryView<'a> {
        HistoryView {
            member: member.view(),
            events: events.iter().map(Event::view).collect(),
        }
    }
}

impl ReplayRequest {
    /// The member and events (`as_of` is read separately).
    pub fn view(&self) -> HistoryView<'_> {
        HistoryView::of(&self.member, &self.events)
    }
}
