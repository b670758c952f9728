//! Message texts (`sms_template`): a tenant's own text of an event's message in one
//! language (without one, `domain::sms::Event`'s default), the events it sends no message
//! for (`sms_event_off`), and the language a tenant's customers are written to in
//! (`tenant.sms_lang`).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use crate::entity::{sms_event_off, sms_template, tenant};
use crate::error::StoreResult;
use crate::write::{AuditEntry, Write};
use domain::ids::TenantId;

/// A tenant's own text of an event's message in one language.
pub type Template = crate::entity::sms_template::Model;

/// The tenant's own texts, by event and language.
pub async fn templates_of<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> StoreResult<Vec<Template>> {
    Ok(sms_template::Entity::find()
        .filter(sms_template::Column::TenantId.eq(tenant.0))
        .order_by_asc(sms_template::Column::Event)
        .order_by_asc(sms_template::Column::Lang)
        .all(conn)
        .await?)
}

/// The tenant's own text of `event` in `lang`, if it set one.
pub async fn template<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    event: &str,
    lang: &str,
) -> StoreResult<Option<String>> {
    Ok(sms_template::Entity::find()
        .filter(sms_template::Column::TenantId.eq(tenant.0))
        .filter(sms_template::Column::Event.eq(event))
        .filter(sms_template::Column::Lang.eq(lang))
        .one(conn)
        .await?
        .map(|t| t.text))
}

/// Sets the tenant's text of `event` in `lang` (`None`: back to the default), in `w`,
/// audited with the text before and after.
pub async fn set_template(
    w: &mut Write,
    tenant: TenantId,
    event: &str,
    lang: &str,
    text: Option<&str>,
) -> StoreResult<()> {
    let found = sms_template::Entity::find()
        .filter(sms_template::Column::TenantId.eq(tenant.0))
        .filter(sms_template::Column::Event.eq(event))
        .filter(sms_template::Column::Lang.eq(lang))
        .one(w.tx())
        .await?;
    let before = found.as_ref().map(|t| t.text.clone());
    let updated_by = w.author().user_id.map(|u| u.0);
    match (found, text) {
        (Some(row), Some(text)) => {
            let mut row: sms_template::ActiveModel = row.into();
            row.text = Set(text.to_owned());
            row.updated_at = Set(w.now());
            row.updated_by = Set(updated_by);
            row.update(w.tx()).await?;
        }
        (Some(row), None) => {
            sms_template::Entity::delete_by_id(row.id)
                .exec(w.tx())
                .await?;
        }
        (None, Some(text)) => {
            sms_template::ActiveModel {
                id: NotSet,
                tenant_id: Set(tenant.0),
                event: Set(event.to_owned()),
                lang: Set(lang.to_owned()),
                text: Set(text.to_owned()),
                updated_at: Set(w.now()),
                updated_by: Set(updated_by),
            }
            .insert(w.tx())
            .await?;
        }
        (None, None) => return Ok(()),
    }
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "sms.template",
        entity: "tenant",
        entity_id: Some(tenant.0),
        before: Some(json!({ "event": event, "lang": lang, "text": before })),
        after: Some(json!({ "event": event, "lang": lang, "text": text })),
    })
    .await?;
    Ok(())
}

/// Sets the language the tenant's customers are written to in, in `w`, audited.
pub async fn set_language(w: &mut Write, tenant: &tenant::Model, lang: &str) -> StoreResult<()> {
    tenant::Entity::update_many()
        .col_expr(tenant::Column::SmsLang, Expr::value(lang))
        .filter(tenant::Column::Id.eq(tenant.id))
        .exec(w.tx())
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(tenant.id)),
        action: "sms.language",
        entity: "tenant",
        entity_id: Some(tenant.id),
        before: Some(json!({ "sms_lang": tenant.sms_lang })),
        after: Some(json!({ "sms_lang": lang })),
    })
    .await?;
    Ok(())
}

/// The events the tenant sends no message for, by name.
pub async fn events_off<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> StoreResult<Vec<String>> {
    Ok(sms_event_off::Entity::find()
        .filter(sms_event_off::Column::TenantId.eq(tenant.0))
        .order_by_asc(sms_event_off::Column::Event)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.event)
        .collect())
}

/// Whether the tenant sends no message for `event`.
pub async fn is_off<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    event: &str,
) -> StoreResult<bool> {
    Ok(sms_event_off::Entity::find()
        .filter(sms_event_off::Column::TenantId.eq(tenant.0))
        .filter(sms_event_off::Column::Event.eq(event))
        .one(conn)
        .await?
        .is_some())
}

/// Switches the tenant's messages for `event` on or off, in `w`, audited when it changes.
pub async fn set_event(w: &mut Write, tenant: TenantId, event: &str, on: bool) -> StoreResult<()> {
    let found = sms_event_off::Entity::find()
        .filter(sms_event_off::Column::TenantId.eq(tenant.0))
        .filter(sms_event_off::Column::Event.eq(event))
        .one(w.tx())
        .await?;
    match (found, on) {
        (Some(row), true) => {
            sms_event_off::Entity::delete_by_id(row.id)
                .exec(w.tx())
                .await?;
        }
        (None, false) => {
            sms_event_off::ActiveModel {
                id: NotSet,
                tenant_id: Set(tenant.0),
                event: Set(event.to_owned()),
                updated_at: Set(w.now()),
                updated_by: Set(w.author().user_id.map(|u| u.0)),
            }
            .insert(w.tx())
            .await?;
        }
        (Some(_), false) | (None, true) => return Ok(()),
    }
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "sms.event",
        entity: "tenant",
        entity_id: Some(tenant.0),
        before: Some(json!({ "event": event, "on": !on })),
        after: Some(json!({ "event": event, "on": on })),
    })
    .await?;
    Ok(())
}
