//! The console's Technicians screen (一证件, ISO 9001 §7.5.2 b): every technician's profile with
//! its certificate state now, the admin's edit (qualifications, certificate number, stars,
//! validity) and the withdrawal (dispatchers and admins) and reinstatement (admins) of a
//! certificate. The rules, who may do what included, are `onsite_domain::profile`; the edit is
//! written to the `profile:` document on this device and synced like every other edit.

use onsite_domain::profile::{self, Actor, ProfileAction, ProfileChange};
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::{DocId, DomainError, board};

use super::dispatch_read::Snapshot;
use super::{App, lock};
use crate::error::AppError;
use crate::view::*;

/// `profile::withdraw` or `profile::reinstate`: profile, action id, reason, by, actor, now.
type CertificateStep = fn(
    &mut TechnicianProfile,
    &str,
    &str,
    &str,
    Actor,
    onsite_domain::Millis,
) -> Result<(), DomainError>;

impl App {
    /// The signed-in dispatcher or admin, with their role for the profile rules.
    fn staff(&self) -> Result<(String, Actor), AppError> {
        let user = self.dispatcher()?;
        let role = onsite_client::Session::load(&self.store)?.map(|s| s.role);
        let actor = match role {
            Some(onsite_wire::Role::Admin) => Actor::Admin,
            Some(onsite_wire::Role::Dispatcher) => Actor::Dispatcher,
            _ => Actor::Technician,
        };
        Ok((user, actor))
    }

    /// Every technician whose profile is on this device, with the certificate's state now.
    pub fn technicians(&self) -> Result<TechniciansView, AppError> {
        let (_, actor) = self.staff()?;
        let now = self.now();
        let snap = Snapshot::read(&lock(&self.store))?;
        let today = self.day(0, now);
        Ok(TechniciansView {
            now_ms: now,
            stars_min: *profile::STARS.start(),
            stars_max: *profile::STARS.end(),
            can_edit: profile::may(actor, ProfileAction::Edit),
            can_withdraw: profile::may(actor, ProfileAction::Withdraw),
            can_reinstate: profile::may(actor, ProfileAction::Reinstate),
            technicians: snap
                .technicians
                .iter()
                .map(|p| TechnicianView {
                    load_today: board::load_on(&snap.orders, &p.technician_id, today),
                    ..self.technician_view(p, now)
                })
                .collect(),
        })
    }

    fn technician_view(&self, p: &TechnicianProfile, now: onsite_domain::Millis) -> TechnicianView {
        TechnicianView {
            technician_id: p.technician_id.clone(),
            name: p.name.clone(),
            qualifications: p.qualifications.clone(),
            certificate_id: p.certificate_id.clone(),
            certificate_stars: p.certificate_stars,
            valid_from: p
                .certificate_valid_from_ms
                .map(|f| profile::local_date(f, self.utc_offset_ms)),
            valid_until: profile::valid_until_date(p, self.utc_offset_ms),
            certificate: p.certificate_state(now),
            withdrawn_at_ms: p.certificate_withdrawn_at_ms,
            actions: p
                .certificate_actions
                .iter()
                .rev()
                .map(|a| CertificateActionView {
                    kind: a.kind,
                    certificate_id: a.certificate_id.clone(),
                    by: a.by.clone(),
                    at_ms: a.at_ms,
                    reason: a.reason.clone(),
                })
                .collect(),
            load_today: 0,
        }
    }

    /// Save an admin's edit of a profile; a dispatcher is refused with `profile.not_allowed`.
    pub fn save_profile(&self, req: ProfileEditRequest) -> Result<TechniciansView, AppError> {
        let (_, actor) = self.staff()?;
        let now = self.now();
        let change = ProfileChange {
            qualifications: req.qualifications,
            certificate_id: req.certificate_id,
            stars: req.stars,
            valid_from: req.valid_from,
            valid_until: req.valid_until,
        };
        let offset = self.utc_offset_ms;
        {
            let mut store = lock(&self.store);
            let others = Snapshot::read(&store)?.technicians;
            update_profile(&mut store, &req.technician_id, |p| {
                profile::edit(p, &change, &others, actor, offset, now)
            })?;
        }
        self.nudge();
        self.technicians()
    }

    /// Withdraw a technician's certificate now, with a reason (dispatchers and admins).
    pub fn withdraw_certificate(
        &self,
        req: CertificateActionRequest,
    ) -> Result<TechniciansView, AppError> {
        self.certificate_action(req, profile::withdraw)
    }

    /// Reinstate a withdrawn certificate, with a reason (admins).
    pub fn reinstate_certificate(
        &self,
        req: CertificateActionRequest,
    ) -> Result<TechniciansView, AppError> {
        self.certificate_action(req, profile::reinstate)
    }

    fn certificate_action(
        &self,
        req: CertificateActionRequest,
        action: CertificateStep,
    ) -> Result<TechniciansView, AppError> {
        let (by, actor) = self.staff()?;
        let now = self.now();
        let id = format!("ca-{}", (self.new_id)());
        update_profile(&mut lock(&self.store), &req.technician_id, |p| {
            action(p, &id, &req.reason, &by, actor, now)
        })?;
        self.nudge();
        self.technicians()
    }
}

fn update_profile(
    store: &mut onsite_store::Store,
    technician_id: &str,
    f: impl FnOnce(&mut TechnicianProfile) -> Result<(), DomainError>,
) -> Result<(), AppError> {
    let id = DocId::Profile(technician_id.to_owned());
    if !store.contains(&id)? {
        return Err(AppError::ProfileNotFound(technician_id.to_owned()));
    }
    store.update::<TechnicianProfile, _>(&id, f)?;
    Ok(())
}
