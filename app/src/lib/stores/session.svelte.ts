/**
 * @module app/lib/stores/session
 * The signed-in user and their organization, loaded by the app layout from `GET /api/me`.
 */
import type { MeDto, PersonDto } from '$sync/api';
import { forgetMe, rememberMe } from './remembered-me';

class SessionStore {
  /** The current session, or null when signed out or not yet loaded. */
  me = $state<MeDto | null>(null);

  readonly user = $derived(this.me?.user ?? null);
  readonly org = $derived(this.me?.org ?? null);
  readonly isAdmin = $derived(this.me?.user.role === 'admin');

  /** @param me The session as returned by the API. */
  set(me: MeDto): void {
    this.me = me;
    rememberMe(me);
  }

  /** Replaces the signed-in user's record, e.g. after they changed their own role. */
  updateUser(user: PersonDto): void {
    if (this.me && this.me.user.id === user.id) {
      this.me = { ...this.me, user };
      rememberMe(this.me);
    }
  }

  /** The session ended: nothing of it stays in the browser. */
  clear(): void {
    this.me = null;
    forgetMe();
  }
}

/** The one session for this tab. */
export const session = new SessionStore();
