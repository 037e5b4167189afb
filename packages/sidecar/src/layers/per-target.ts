/**
 * Builds a target's stack once and reuses it for every request to that target (linkerd's
 * "new service per target"). Targets are the frozen objects of one compiled config, so a new
 * config version brings new targets, the old stacks become garbage with their config, and
 * per-target state (a balancer's position) never leaks across versions.
 */
export function perTarget<T extends object, S>(build: (target: T) => S): (target: T) => S {
  const built = new WeakMap<T, S>();
  return (target) => {
    let s = built.get(target);
    if (s === undefined) {
      s = build(target);
      built.set(target, s);
    }
    return s;
  };
}
