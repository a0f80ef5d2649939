//! Reminder and notification entities (issue 7). Tenant-owned: `tenant_id` first in every key;
//! `scheduler_lease` is a platform row. JSON lists are text columns, read through the
//! repository (`repo::reminders`).

/// A tenant's reminder settings: its IANA time zone and local send time. No row: `UTC`, 09:00.
pub mod reminder_settings {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reminder_settings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        pub time_zone: String,
        pub send_hour: i32,
        pub send_minute: i32,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A tenant's policy for one kind of due item. No row: the domain's default policy.
pub mod reminder_policy {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reminder_policies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        pub enabled: bool,
        /// JSON array of days.
        pub lead_days: String,
        pub overdue_every_days: Option<i32>,
        /// JSON array of channels.
        pub channels: String,
        /// JSON `Recipients`.
        pub recipients: String,
        /// JSON `Escalation`, if any.
        pub escalation: Option<String>,
        pub updated_by: String,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A member's daily digest option.
pub mod digest_preference {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "digest_preferences")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        pub enabled: bool,
        pub send_hour: i32,
        pub send_minute: i32,
        pub time_zone: Option<String>,
        /// JSON array of channels.
        pub channels: String,
        pub skip_when_empty: bool,
        /// SHA-256 (hex) of the token of the digest's unsubscribe link.
        pub unsubscribe_sha256: Option<String>,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One reminder occurrence, written once (unique `idempotency_key`).
pub mod reminder {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reminders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub idempotency_key: String,
        pub subject_type: String,
        pub subject_id: Uuid,
        pub kind: String,
        pub due_on: Date,
        /// `lead-30`, `overdue-2` (`Step::key`).
        pub lead: String,
        pub send_at: DateTimeUtc,
        /// `pending`, `queued`, `skipped`, `retired`.
        pub status: String,
        pub retired_reason: Option<String>,
        pub created_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One delivery: an outbox event or reminder, on one channel, to one target (unique
/// `delivery_key`).
pub mod delivery {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deliveries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub delivery_key: String,
        pub outbox_event_id: Option<Uuid>,
        pub reminder_id: Option<Uuid>,
        /// `email`, `webhook`, `in-app`.
        pub channel: String,
        /// An address, an endpoint id or a user id.
        pub target: String,
        /// `pending`, `delivered`, `failed`, `dead`, `cancelled`.
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: Option<DateTimeUtc>,
        pub last_attempt_at: Option<DateTimeUtc>,
        pub last_status_code: Option<i32>,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub delivered_at: Option<DateTimeUtc>,
        /// Until when the Redis stream holds this delivery (see migration m0011).
        pub queued_until: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One attempt of a delivery (append-only).
pub mod delivery_attempt {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "delivery_attempts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub delivery_id: Uuid,
        pub attempted_at: DateTimeUtc,
        /// `webhooks::DeliveryOutcome`: `delivered`, `gone`, `throttled`, `failed`,
        /// `timed-out`, `connection-failed`.
        pub outcome: String,
        pub status_code: Option<i32>,
        pub error: Option<String>,
        pub duration_ms: Option<i32>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A tenant's webhook endpoint and its health.
pub mod webhook_endpoint {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Checked by the API (https, or http to a loopback host), stored as given.
        pub url: String,
        pub description: String,
        /// JSON array of event types (empty: every type).
        pub event_types: String,
        pub enabled: bool,
        pub disabled_reason: Option<String>,
        pub disabled_at: Option<DateTimeUtc>,
        pub consecutive_failures: i32,
        pub first_failure_at: Option<DateTimeUtc>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A signing secret of an endpoint. `secret` is the `whsec_…` text as entered or generated:
/// the receiver needs the same key to verify, so it cannot be hashed. It is not encrypted by the
/// store; encryption at rest is the database's and its disks' concern (docs/DATABASE.md).
/// `expires_at` NULL: the current secret; a rotation sets the old one's expiry 24 h ahead.
/// The repository hands out `WebhookSecret` (whose `Debug` hides the key) and
/// `WebhookSecretInfo`, never this row.
pub mod webhook_secret {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_secrets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub endpoint_id: Uuid,
        pub secret: String,
        pub created_at: DateTimeUtc,
        pub expires_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// An in-app notification of one member.
pub mod notification {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        /// The in-app delivery it came from (unique: one notification per delivery).
        pub delivery_id: Option<Uuid>,
        pub topic: String,
        pub title: String,
        pub body: String,
        pub subject_type: Option<String>,
        pub subject_id: Option<String>,
        pub link: Option<String>,
        pub created_at: DateTimeUtc,
        pub read_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A member's calendar feed: only the SHA-256 of its token's secret is stored.
pub mod calendar_feed {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_feeds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        pub token_sha256: String,
        pub created_at: DateTimeUtc,
        pub revoked_at: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// The scheduler's lease (a platform row: one per lease name).
pub mod scheduler_lease {
    use sea_orm::entity::prelude::*;

    #[sea_orm::model]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "scheduler_leases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub holder: String,
        pub fencing_token: i64,
        pub expires_at: DateTimeUtc,
        /// The end of the last window scheduled for every tenant (migration m0011).
        pub scheduled_until: Option<DateTimeUtc>,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
