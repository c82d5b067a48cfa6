"""Members of organizations: made by the operator's command line, reaching the API with user keys.

The dashboard (a later issue) will add signing in with a password; it belongs beside `create`
here (`set_password`, `sign_in`), storing its hash on the Member row and producing the same
Principal a user key does, so roles keep meaning one thing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import audit
from tenantry.api_keys import service as api_keys
from tenantry.auth.principal import Principal
from tenantry.errors import MemberAlreadyExists, OrganizationNotFound
from tenantry.kit import ids
from tenantry.kit.keys import KeyKind
from tenantry.kit.pagination import PageRequest, total_pages
from tenantry.kit.time import utcnow
from tenantry.members import schemas
from tenantry.members.repository import MemberReachRepository, MemberRepository
from tenantry.models import Member, Membership, Organization
from tenantry.projects import schemas as project_schemas
from tenantry.projects import service as projects

DEFAULT_PAGE_SIZE = 20


async def create(session: AsyncSession, org_id: str, payload: schemas.MemberCreate) -> schemas.MemberCreated:
    """Makes `payload.email` a member of the organization (creating the person if new) and issues
    them a user key in it. A person already in the organization is a conflict."""
    if await session.get(Organization, org_id) is None:
        raise OrganizationNotFound(f"No organization {org_id!r}")
    repository = MemberRepository(session)
    member = await repository.by_email(payload.email)
    if member is None:
        moment = utcnow()
        member = Member(id=ids.nano_id("mb"), email=payload.email, name=payload.name, created_at=moment, updated_at=moment)
        await repository.add(member)
    elif await repository.membership(member.id, org_id) is not None:
        raise MemberAlreadyExists(f"{payload.email} is already a member of {org_id}")
    await repository.join(Membership(org_id=org_id, member_id=member.id, role=payload.role.value))
    _, plaintext = await api_keys.mint(session, kind=KeyKind.user, org_id=org_id, member_id=member.id)
    await audit.record(
        session, None, "member.created", member, org_id=org_id, details={"email": member.email, "role": payload.role.value}
    )
    return schemas.MemberCreated(
        id=member.id, email=member.email, name=member.name, org_id=org_id, role=payload.role, api_key=plaintext
    )


async def list_members(session: AsyncSession, org_id: str) -> list[schemas.MemberListed]:
    return [
        schemas.MemberListed(id=member.id, email=member.email, name=member.name, role=schemas.Role(role), created_at=member.created_at)
        for member, role in await MemberRepository(session).of_organization(org_id)
    ]


async def list_organizations(
    session: AsyncSession, principal: Principal, *, limit: int | None, cursor: str | None
) -> schemas.OrganizationList:
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = MemberReachRepository(session, principal)
    rows, next_cursor = request.slice(await repository.organizations(request), lambda org: (org.created_at, org.id))
    total = await repository.organization_count()
    return schemas.OrganizationList(
        organizations=[
            schemas.Organization(id=org.id, name=org.name, created_at=org.created_at, updated_at=org.updated_at)
            for org in rows
        ],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )


async def list_projects(
    session: AsyncSession, principal: Principal, *, all_organizations: bool, limit: int | None, cursor: str | None
) -> project_schemas.ProjectList:
    """The live projects of the organization the key acts in, or of every organization of the member."""
    if not all_organizations:
        return await projects.list_page(session, principal, limit=limit, cursor=cursor)
    request = PageRequest.parse(limit, cursor, DEFAULT_PAGE_SIZE)
    repository = MemberReachRepository(session, principal)
    rows, next_cursor = request.slice(await repository.projects(request), lambda project: (project.created_at, project.id))
    total = await repository.project_count()
    return project_schemas.ProjectList(
        data=[projects.to_schema(project) for project in rows],
        next_cursor=next_cursor,
        total_pages=total_pages(total, request.limit),
        current_page=request.page,
        total_items=total,
    )
