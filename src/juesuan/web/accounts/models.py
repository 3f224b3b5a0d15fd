"""Users, units in a hierarchy (部门 → 单位), and grants of a role on a unit to a user."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models

# Roles (角色). 管理员 is not granted on a unit: it is the user's `is_superuser` flag, and it
# manages accounts, units and grants without seeing any unit's books unless also granted a role.
FINANCE, CLERK, REVIEWER, APPROVER, BUREAU, ADMIN = (
    "finance",
    "clerk",
    "reviewer",
    "approver",
    "bureau",
    "admin",
)
ROLE_NAMES = {
    FINANCE: "财务",
    CLERK: "经办",
    REVIEWER: "复核",
    APPROVER: "审批",
    BUREAU: "财政局",
    ADMIN: "管理员",
}
GRANTABLE_ROLES = (FINANCE, CLERK, REVIEWER, APPROVER, BUREAU)

DEPARTMENT, UNIT = "department", "unit"
UNIT_KIND_NAMES = {DEPARTMENT: "部门", UNIT: "单位"}


class User(AbstractUser):
    """A person who signs in. `display_name` is the name shown on pages (姓名)."""

    display_name = models.CharField("姓名", max_length=100, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_administrator(self) -> bool:
        return self.is_active and self.is_superuser


class Unit(models.Model):
    """A 部门 (department) or a 单位 (budget unit). A 部门's children are its units."""

    name = models.CharField("名称", max_length=200)
    code = models.CharField("编码", max_length=50, blank=True)
    kind = models.CharField(
        "类别", max_length=20, choices=list(UNIT_KIND_NAMES.items()), default=UNIT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ("name",)
        constraints = (models.UniqueConstraint(fields=("name",), name="unit_name_unique"),)

    def __str__(self) -> str:
        return self.name

    @property
    def kind_name(self) -> str:
        return UNIT_KIND_NAMES.get(self.kind, self.kind)

    @property
    def is_department(self) -> bool:
        return self.kind == DEPARTMENT

    def ancestors(self) -> list[Unit]:
        """Parents, nearest first (a cycle cannot be saved, but the walk stops on one anyway)."""
        found: list[Unit] = []
        seen = {self.pk}
        unit = self.parent
        while unit is not None and unit.pk not in seen:
            found.append(unit)
            seen.add(unit.pk)
            unit = unit.parent
        return found


class Grant(models.Model):
    """`user` holds `role` on `unit`. A 财政局 grant covers the unit's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField(
        "角色", max_length=20, choices=[(r, ROLE_NAMES[r]) for r in GRANTABLE_ROLES]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "授权"
        verbose_name_plural = "授权"
        constraints = (
            models.UniqueConstraint(fields=("user", "unit", "role"), name="grant_unique"),
        )

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {ROLE_NAMES.get(self.role, self.role)}"

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


class LoginFailure(models.Model):
    """One failed sign-in, counted per username and address for throttling."""

    username = models.CharField(max_length=150)
    ip = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = (models.Index(fields=("username", "ip", "at")),)
