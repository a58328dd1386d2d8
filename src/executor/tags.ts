/** --tags / --skip-tags selection with Ansible's special tags (always, never, tagged, untagged, all). */

export interface TagFilter {
  only: string[];
  skip: string[];
}

export function isSelected(tags: readonly string[], filter: TagFilter): boolean {
  const set = new Set(tags);
  const only = filter.only.length ? filter.only : ['all'];
  if (filter.skip.length) {
    if (filter.skip.includes('all') && !set.has('always')) return false;
    if (filter.skip.some((t) => set.has(t))) return false;
    if (filter.skip.includes('tagged') && set.size > 0 && !set.has('always')) return false;
    if (filter.skip.includes('untagged') && set.size === 0) return false;
  }
  // `never` tasks run only when one of their tags is asked for by name.
  if (set.has('never')) return only.some((t) => t !== 'all' && t !== 'never' && set.has(t)) || only.includes('never');
  if (set.has('always') && !filter.skip.includes('always')) return true;
  if (only.includes('all')) return true;
  if (only.includes('tagged') && set.size > 0) return true;
  if (only.includes('untagged') && set.size === 0) return true;
  return only.some((t) => set.has(t));
}
