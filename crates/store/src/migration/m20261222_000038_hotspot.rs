//! The captive portal (hotspot-design.md §1.5, §2.4, §4.3): `hotspot_portal`, a router's
//! portal (its public key, the hosts its login page may be on, the package and owner of
//! new accounts, the trial package, the devices an account may bind, the codes its phones
//! may be sent in an hour), found by its key;
//! `portal_session`, one phone's visit from the router's login page to the hand-off, found
//! by the hash of its cookie; `hotspot_device`, a device bound to a customer (its MAC a
//! hint and a check, never a user name), listed per customer and found per tenant by MAC;
//! `otp_code`, a one-time code kept as a keyed hash, counted per number, per visit and per
//! router over time; and `hotspot_trial`, a mobile's one trial in a tenant.

use sea_orm_migration::prelude::*;

use super::{at, id, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum HotspotPortal {
    Table,
    Id,
    TenantId,
    RouterId,
    PortalKey,
    OwnerId,
    PackageId,
    TrialPackageId,
    MaxDevices,
    CodesPerHour,
    Hosts,
    Status,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone)]
enum PortalSession {
    Table,
    Id,
    TokenHash,
    TenantId,
    PortalId,
    RouterId,
    Mac,
    Ip,
    LoginUrl,
    Dst,
    ChapId,
    ChapChallenge,
    RouterError,
    Lang,
    Mobile,
    VerifiedAt,
    CustomerId,
    Codes,
    CreatedAt,
    ExpiresAt,
    HandedOffAt,
}

#[derive(DeriveIden, Clone)]
enum HotspotDevice {
    Table,
    Id,
    TenantId,
    CustomerId,
    Mac,
    Randomised,
    Label,
    RouterId,
    FirstSeenAt,
    LastSeenAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone)]
enum OtpCode {
    Table,
    Id,
    TenantId,
    PortalSessionId,
    RouterId,
    Purpose,
    Msisdn,
    CodeMac,
    Tries,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden, Clone)]
enum HotspotTrial {
    Table,
    Id,
    TenantId,
    Msisdn,
    CustomerId,
    GrantedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HotspotPortal::Table)
                    .col(id(HotspotPortal::Id))
                    .col(
                        ColumnDef::new(HotspotPortal::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HotspotPortal::RouterId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HotspotPortal::PortalKey)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(HotspotPortal::OwnerId).big_integer().null())
                    .col(
                        ColumnDef::new(HotspotPortal::PackageId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HotspotPortal::TrialPackageId)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(HotspotPortal::MaxDevices)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HotspotPortal::CodesPerHour)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(HotspotPortal::Hosts).text().not_null())
                    .col(
                        ColumnDef::new(HotspotPortal::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(at(HotspotPortal::CreatedAt).not_null())
                    .col(at(HotspotPortal::UpdatedAt).not_null())
                    .col(ColumnDef::new(HotspotPortal::Version).integer().not_null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "hotspot_portal_key",
            HotspotPortal::Table,
            &[HotspotPortal::PortalKey],
            None,
        )
        .await?;
        unique(
            manager,
            "hotspot_portal_router_key",
            HotspotPortal::Table,
            &[HotspotPortal::RouterId],
            None,
        )
        .await?;
        index(
            manager,
            "hotspot_portal_tenant_idx",
            HotspotPortal::Table,
            &[HotspotPortal::TenantId, HotspotPortal::Id],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(PortalSession::Table)
                    .col(id(PortalSession::Id))
                    .col(
                        ColumnDef::new(PortalSession::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PortalSession::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PortalSession::PortalId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PortalSession::RouterId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PortalSession::Mac).string_len(17).null())
                    .col(ColumnDef::new(PortalSession::Ip).string_len(15).null())
                    .col(ColumnDef::new(PortalSession::LoginUrl).text().not_null())
                    .col(ColumnDef::new(PortalSession::Dst).text().null())
                    .col(ColumnDef::new(PortalSession::ChapId).integer().null())
                    .col(
                        ColumnDef::new(PortalSession::ChapChallenge)
                            .string_len(32)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PortalSession::RouterError)
                            .string_len(32)
                            .null(),
                    )
                    .col(ColumnDef::new(PortalSession::Lang).string_len(2).not_null())
                    .col(ColumnDef::new(PortalSession::Mobile).string_len(16).null())
                    .col(at(PortalSession::VerifiedAt).null())
                    .col(
                        ColumnDef::new(PortalSession::CustomerId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(PortalSession::Codes).integer().not_null())
                    .col(at(PortalSession::CreatedAt).not_null())
                    .col(at(PortalSession::ExpiresAt).not_null())
                    .col(at(PortalSession::HandedOffAt).null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "portal_session_token_key",
            PortalSession::Table,
            &[PortalSession::TokenHash],
            None,
        )
        .await?;
        // Housekeeping drops visits past their end.
        index(
            manager,
            "portal_session_expires_idx",
            PortalSession::Table,
            &[PortalSession::ExpiresAt],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(HotspotDevice::Table)
                    .col(id(HotspotDevice::Id))
                    .col(
                        ColumnDef::new(HotspotDevice::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HotspotDevice::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(HotspotDevice::Mac).string_len(17).not_null())
                    .col(
                        ColumnDef::new(HotspotDevice::Randomised)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(HotspotDevice::Label).text().not_null())
                    .col(ColumnDef::new(HotspotDevice::RouterId).big_integer().null())
                    .col(at(HotspotDevice::FirstSeenAt).not_null())
                    .col(at(HotspotDevice::LastSeenAt).not_null())
                    .col(at(HotspotDevice::RevokedAt).null())
                    .to_owned(),
            )
            .await?;
        // One live binding of a MAC to a customer.
        unique(
            manager,
            "hotspot_device_live_key",
            HotspotDevice::Table,
            &[HotspotDevice::CustomerId, HotspotDevice::Mac],
            Some(HotspotDevice::RevokedAt),
        )
        .await?;
        index(
            manager,
            "hotspot_device_mac_idx",
            HotspotDevice::Table,
            &[HotspotDevice::TenantId, HotspotDevice::Mac],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(OtpCode::Table)
                    .col(id(OtpCode::Id))
                    .col(ColumnDef::new(OtpCode::TenantId).big_integer().not_null())
                    .col(
                        ColumnDef::new(OtpCode::PortalSessionId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(OtpCode::RouterId).big_integer().null())
                    .col(ColumnDef::new(OtpCode::Purpose).string_len(16).not_null())
                    .col(ColumnDef::new(OtpCode::Msisdn).string_len(16).not_null())
                    .col(ColumnDef::new(OtpCode::CodeMac).string_len(64).not_null())
                    .col(ColumnDef::new(OtpCode::Tries).integer().not_null())
                    .col(at(OtpCode::CreatedAt).not_null())
                    .col(at(OtpCode::ExpiresAt).not_null())
                    .col(at(OtpCode::UsedAt).null())
                    .to_owned(),
            )
            .await?;
        // A number's codes over the last hour and day.
        index(
            manager,
            "otp_code_number_idx",
            OtpCode::Table,
            &[OtpCode::TenantId, OtpCode::Msisdn, OtpCode::CreatedAt],
        )
        .await?;
        // A visit's codes, newest last.
        index(
            manager,
            "otp_code_session_idx",
            OtpCode::Table,
            &[OtpCode::PortalSessionId, OtpCode::Id],
        )
        .await?;
        // A router's codes over the last hour.
        index(
            manager,
            "otp_code_router_idx",
            OtpCode::Table,
            &[OtpCode::RouterId, OtpCode::CreatedAt],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(HotspotTrial::Table)
                    .col(id(HotspotTrial::Id))
                    .col(
                        ColumnDef::new(HotspotTrial::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HotspotTrial::Msisdn)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(HotspotTrial::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(at(HotspotTrial::GrantedAt).not_null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "hotspot_trial_number_key",
            HotspotTrial::Table,
            &[HotspotTrial::TenantId, HotspotTrial::Msisdn],
            None,
        )
        .await
    }
}
