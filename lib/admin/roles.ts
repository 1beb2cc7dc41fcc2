import { z } from 'zod';
import type { TAdminRole } from '../store/schema';

export const ZAdminRole = z.enum(['owner', 'admin', 'auditor']);

// owner: everything, and the admins; admin: everything but the admins; auditor: reads only.
const RANK: Record<TAdminRole, number> = { auditor: 0, admin: 1, owner: 2 };

export const hasRole = (role: TAdminRole, required: TAdminRole) => RANK[role] >= RANK[required];

// The actor an audit event names for an admin.
export const adminActor = (admin: { email: string }) => `admin:${admin.email}`;
