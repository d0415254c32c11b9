/** Appends `value`, dropping the oldest entries past `max`: the monitor's bounded windows of recent figures. */
export function keepRecent<T>(list: T[], value: T, max: number): void {
  list.push(value);
  if (list.length > max) list.splice(0, list.length - max);
}
