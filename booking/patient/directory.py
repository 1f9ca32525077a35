"""Provider cards, as the directory and the home page list them: each with its first free times."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from booking.models import Provider
from booking.services.availability import ServiceInfo, first_free_times, provider_info


def provider_cards(providers: Iterable[Provider], service_id: int | None,
                   now: datetime) -> list[tuple[Provider, ServiceInfo | None, list[datetime]]]:
    """(provider, the service shown, its first three free times) per provider. The service is the one
    filtered on when the provider offers it, else the provider's first."""
    cards = []
    for provider in providers:
        info = provider_info(provider)
        service = info.service(service_id) or info.service(None)
        cards.append((provider, service, first_free_times(info, service, now) if service else []))
    return cards
