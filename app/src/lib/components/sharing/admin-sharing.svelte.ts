/**
 * @module app/lib/components/sharing/admin-sharing
 * State of the admin "Email sharing" page: everyone's setting, the stats, and
 * the people and groups an audience can name. A change is saved first and the
 * whole list reloaded, so the stats always match what the server holds.
 */
import { api } from '$lib/api';
import type { GroupDto, PersonDto } from '$sync/api';
import type { AdminEmailSharingDto, AdminEmailSharingInput, PersonEmailSharingDto } from '$sync/sharing-api';

export type LoadStatus = 'loading' | 'ready' | 'error';

export class EmailSharingAdmin {
  status = $state<LoadStatus>('loading');
  loadError = $state<string | null>(null);
  data = $state<AdminEmailSharingDto | null>(null);
  people = $state<PersonDto[]>([]);
  groups = $state<GroupDto[]>([]);

  readonly peopleById = $derived(new Map(this.people.map((p) => [p.id, p])));
  readonly groupsById = $derived(new Map(this.groups.map((g) => [g.id, g])));

  /** Loads everything; failures land in `loadError` and are rethrown for session handling. */
  async load(): Promise<void> {
    this.status = 'loading';
    this.loadError = null;
    try {
      const [data, people, groups] = await Promise.all([api.listEmailSharing(), api.listPeople(), api.listGroups()]);
      this.data = data;
      this.people = people.people;
      this.groups = groups.groups;
      this.status = 'ready';
    } catch (error) {
      this.status = 'error';
      this.loadError = error instanceof Error && error.message ? error.message : 'Could not load email sharing.';
      throw error;
    }
  }

  /** Saves someone's setting, then refreshes the list and stats. @returns the saved row. */
  async update(userId: string, input: AdminEmailSharingInput): Promise<PersonEmailSharingDto> {
    const row = await api.updateEmailSharing(userId, input);
    if (this.data) {
      this.data = { ...this.data, people: this.data.people.map((p) => (p.person.id === userId ? row : p)) };
    }
    // The stats are the server's to count; a failed refresh keeps the saved row shown.
    this.data = await api.listEmailSharing().catch(() => this.data);
    return row;
  }

  /** Names for an audience, e.g. "Claire, West team". */
  audienceNames(audience: { userIds: string[]; groupIds: string[] }): string[] {
    const groups = audience.groupIds.map((id) => this.groupsById.get(id)?.name ?? 'Removed group');
    const people = audience.userIds.map((id) => this.peopleById.get(id)?.name ?? 'Removed person');
    return [...groups, ...people];
  }
}
