/**
 * @module app/lib/stores/people
 * State for the People page: members, groups and (for admins) pending invites.
 * Each mutation calls the API first and applies the server's answer, so the
 * table never shows a change the server refused. Errors propagate to the caller.
 */
import { api } from '$lib/api';
import type {
  CreateInviteInput,
  CreatedInviteDto,
  GroupDto,
  InviteDto,
  PersonDto,
  UpdatePersonInput,
} from '$sync/api';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

function byName(a: PersonDto, b: PersonDto): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: 'base' });
}

/** One page's worth of directory state; create a new one per People page visit. */
export class PeopleDirectory {
  people = $state<PersonDto[]>([]);
  invites = $state<InviteDto[]>([]);
  groups = $state<GroupDto[]>([]);
  status = $state<LoadStatus>('idle');
  loadError = $state<string | null>(null);

  /** People sorted by name, active first. */
  readonly sorted = $derived(
    [...this.people].sort((a, b) => Number(b.active) - Number(a.active) || byName(a, b)),
  );
  readonly active = $derived(this.people.filter((p) => p.active).sort(byName));
  readonly byId = $derived(new Map(this.people.map((p) => [p.id, p])));
  readonly groupsById = $derived(new Map(this.groups.map((g) => [g.id, g])));

  /**
   * Loads people, groups and, for admins, invites in parallel.
   * @param options.withInvites Only admins may list invites.
   * @param fallbackMessage Shown when the error has no message of its own.
   */
  async load(options: { withInvites: boolean }, fallbackMessage = 'Could not load people.'): Promise<void> {
    this.status = 'loading';
    this.loadError = null;
    try {
      const [people, invites, groups] = await Promise.all([
        api.listPeople(),
        options.withInvites ? api.listInvites() : Promise.resolve({ invites: [] }),
        api.listGroups(),
      ]);
      this.people = people.people;
      this.invites = invites.invites;
      this.groups = groups.groups;
      this.status = 'ready';
    } catch (error) {
      this.status = 'error';
      this.loadError = error instanceof Error && error.message ? error.message : fallbackMessage;
      throw error;
    }
  }

  /** @returns The updated person. */
  async updatePerson(id: string, input: UpdatePersonInput): Promise<PersonDto> {
    return this.#replacePerson(await api.updatePerson(id, input));
  }

  async deactivate(id: string): Promise<PersonDto> {
    return this.#replacePerson(await api.deactivatePerson(id));
  }

  async reactivate(id: string): Promise<PersonDto> {
    return this.#replacePerson(await api.reactivatePerson(id));
  }

  /** @returns The invite and its one-time URL. */
  async createInvite(input: CreateInviteInput): Promise<CreatedInviteDto> {
    const created = await api.createInvite(input);
    this.invites = [created.invite, ...this.invites.filter((i) => i.id !== created.invite.id)];
    return created;
  }

  async revokeInvite(id: string): Promise<void> {
    await api.revokeInvite(id);
    this.invites = this.invites.filter((i) => i.id !== id);
  }

  async createGroup(name: string): Promise<GroupDto> {
    const group = await api.createGroup({ name });
    this.groups = [...this.groups, group];
    this.#syncMemberships(group);
    return group;
  }

  async renameGroup(id: string, name: string): Promise<GroupDto> {
    const group = await api.renameGroup(id, { name });
    this.groups = this.groups.map((g) => (g.id === id ? group : g));
    return group;
  }

  async deleteGroup(id: string): Promise<void> {
    await api.deleteGroup(id);
    this.groups = this.groups.filter((g) => g.id !== id);
    this.people = this.people.map((p) =>
      p.groupIds.includes(id) ? { ...p, groupIds: p.groupIds.filter((g) => g !== id) } : p,
    );
  }

  async setGroupMembers(id: string, userIds: string[]): Promise<GroupDto> {
    const group = await api.setGroupMembers(id, { userIds });
    this.groups = this.groups.map((g) => (g.id === id ? group : g));
    this.#syncMemberships(group);
    return group;
  }

  #replacePerson(person: PersonDto): PersonDto {
    this.people = this.people.map((p) => (p.id === person.id ? person : p));
    return person;
  }

  /** Keeps each person's `groupIds` in step with a group's member list. */
  #syncMemberships(group: GroupDto): void {
    const members = new Set(group.memberIds);
    this.people = this.people.map((p) => {
      const has = p.groupIds.includes(group.id);
      if (members.has(p.id) === has) {
        return p;
      }
      const groupIds = has ? p.groupIds.filter((g) => g !== group.id) : [...p.groupIds, group.id];
      return { ...p, groupIds };
    });
  }
}
