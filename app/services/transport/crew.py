"""Choosing a vehicle's captain (车长) and vice-captain (副车长) among its passengers."""
import heapq


def choose_crew(passengers, day):
    """Pick (captain 车长, vice-captain 副车长) application_ids among a vehicle's passengers.

    Volunteers first, then adults aged 25–50 on `day` (closest to 37 first), then other adults,
    then anyone; ties go to the lower application_id. The vice-captain is another person, or
    None when there is only one passenger; both are None for an empty vehicle.
    """
    ranked = heapq.nsmallest(2, passengers, key=lambda c: _crew_rank(c, day))
    ids = [c.application_id for c in ranked] + [None, None]
    return ids[0], ids[1]


def _crew_rank(candidate, day):
    age = _age(candidate.birth_date, day)
    if age is None or age < 18:
        tier, distance = 2, 0
    else:
        tier, distance = (0 if 25 <= age <= 50 else 1), abs(age - 37)
    return not candidate.volunteer, tier, distance, candidate.application_id


def _age(birth_date, day):
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
