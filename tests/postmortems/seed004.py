"""Seed 004's complete example incident (INC-20251226-001) as API payloads."""

from __future__ import annotations

SECTIONS = {
    "impact": {
        "users_affected": "All (complete service outage for schedule generation)",
        "user_groups": [{"name": "Faculty", "affected": "all", "total": "all"}],
        "operations": [
            {"text": "Schedule generation", "done": True},
            {"text": "Schedule viewing", "done": False},
        ],
        "workaround_available": False,
    },
    "data_integrity": {
        "state": "INTACT",
        "summary": "no corruption detected",
        "checks_performed": "SELECT COUNT(*) FROM assignments a\nLEFT JOIN persons p ON a.person_id = p.id\nWHERE p.id IS NULL;",
        "findings": [{"text": "No data corruption detected", "done": True}],
        "remediation_required": False,
    },
    "compliance": [
        {
            "name": "ACGME",
            "status": "MAINTAINED",
            "summary": "existing schedules unaffected",
            "checks": [{"text": "80-hour work week limit maintained", "done": True}],
        }
    ],
    "contributing_factors": [
        {"category": "Lack of monitoring", "description": "No alerts on connection pool usage"},
        {
            "category": "Missing documentation",
            "description": "Index creation not in deployment checklist",
        },
        {
            "category": "Test coverage gap",
            "description": "Performance tests don't catch missing indexes",
        },
        {"category": "Human error", "description": "Developer forgot to run migrations locally"},
    ],
    "resolution": [
        "Applied pending migration: `20251220_add_assignments_indexes.py`",
        "Restarted backend to clear connection pool",
        "Verified query performance improved (300ms → 15ms)",
    ],
    "fix": {
        "type": "DATABASE",
        "changes": [
            "Applied missing migration: `alembic upgrade head`",
            "Added indexes to assignments table (person_id, date)",
        ],
        "commits": [
            {"sha": "abc123f", "message": "fix: add missing indexes to assignments table"},
            {"sha": "def456a", "message": "chore: update deployment checklist"},
        ],
        "deployment_steps": "cd backend\nalembic upgrade head\ndocker-compose restart backend",
        "verification": [{"text": "All tests pass: `pytest`", "done": True}],
    },
    "immediate_actions": [
        {
            "action": "Apply migration",
            "owner": "Agent",
            "status": "✓ Complete",
            "completion_time": "14:42 UTC",
        }
    ],
    "prevention": {
        "short_term": [
            {"text": "Add migration verification to deployment script"},
            {"text": "Add connection pool monitoring alert"},
        ],
        "long_term": [
            {"text": "Implement automated migration checks in CI/CD"},
            {"text": "Add database performance testing to test suite"},
        ],
    },
    "lessons": {
        "went_well": ["Detection was quick (< 2 minutes from first error)"],
        "could_improve": ["Should have caught missing migration in code review"],
        "knowledge_gained": ["Connection pool exhaustion causes 500 errors (not timeouts)"],
        "lessons": [
            {
                "text": "Need better deployment verification",
                "priority": "high",
                "category": "process",
            },
            {
                "text": "Missing indexes have severe performance impact",
                "priority": "medium",
                "category": "database",
            },
            {
                "text": "Connection pool exhaustion manifests as 500 errors",
                "priority": "medium",
                "category": "monitoring",
            },
        ],
    },
    "checklist": {
        "timeline_reconstructed": True,
        "impact_assessed": True,
        "root_cause_identified": True,
        "fix_verified": True,
        "prevention_defined": True,
        "action_items_assigned": True,
    },
}

TIMELINE = [
    ("14:30:15", "First 500 error", "Backend API", "`logs/backend.log:1234`"),
    ("14:30:42", "Connection pool exhausted", "PostgreSQL", "Max connections reached"),
    ("14:32:00", "Alert fired", "Prometheus", "HTTP 500 rate > threshold"),
    ("14:33:30", "Investigation started", "Agent", "Skill activated"),
    ("14:38:15", "Root cause identified", "-", "Missing indexes + pending migration"),
    ("14:42:00", "Migration applied", "Backend", "`alembic upgrade head`"),
    ("14:43:00", "Services restarted", "Docker", "`docker-compose restart backend`"),
    ("14:45:30", "Service restored", "All", "Health checks green"),
]

WHYS = [
    ("Why did the API return 500 errors?", "Because the database connection pool was exhausted"),
    (
        "Why was the connection pool exhausted?",
        "Because multiple long-running queries held connections open",
    ),
    (
        "Why were queries long-running?",
        "Because they were missing indexes on the assignments table",
    ),
    ("Why were indexes missing?", "Because the migration to add them was created but not applied"),
    (
        "Why wasn't the migration applied?",
        "Because deployment process doesn't verify migration status",
    ),
]

ROOT_CAUSE = (
    "Missing indexes on assignments table caused slow queries, which exhausted the database "
    "connection pool. The migration to add indexes existed but was not applied due to missing "
    "deployment verification."
)

ACTIONS = [
    ("Add migration check to CI", "Automation", "HIGH", "Agent", "2025-12-30"),
    ("Create connection pool alert", "Monitoring", "HIGH", "Agent", "2025-12-28"),
    ("Update deployment docs", "Documentation", "MEDIUM", "Agent", "2025-12-29"),
    ("Audit schema for indexes", "Database", "MEDIUM", "Human", "2026-01-05"),
    ("Add performance tests", "Testing", "LOW", "Agent", "2026-01-10"),
]
