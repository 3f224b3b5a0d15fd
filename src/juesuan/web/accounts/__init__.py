"""Users, units (部门 → 单位), roles and grants; login with throttling."""
