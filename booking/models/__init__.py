"""SQLAlchemy models; importing this package registers every table on `db.metadata`."""
from booking.models.appointment import Appointment, AppointmentEvent, AppointmentNote
from booking.models.clinic import Provider, Service, Specialty, TimeOff, WorkingHours, provider_services
from booking.models.intake import IntakeAnswer, IntakeKind, IntakeQuestion
from booking.models.limits import AccountLimitCount
from booking.models.media import ProviderPhoto
from booking.models.outbox import MailStatus, OutboxMessage
from booking.models.locking import ProviderNotFound, provider_transaction, write_transaction
from booking.models.user import PatientProfile, User

__all__ = [
    "AccountLimitCount",
    "Appointment",
    "AppointmentEvent",
    "AppointmentNote",
    "IntakeAnswer",
    "IntakeKind",
    "IntakeQuestion",
    "MailStatus",
    "OutboxMessage",
    "PatientProfile",
    "Provider",
    "ProviderNotFound",
    "ProviderPhoto",
    "Service",
    "Specialty",
    "TimeOff",
    "User",
    "WorkingHours",
    "provider_services",
    "provider_transaction",
    "write_transaction",
]
