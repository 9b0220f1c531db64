// The reader's profile as the viewer uses it: read once when the viewer opens (the hanging
// protocols, the toolbar, the mouse bindings, the keys, the window presets and the default layout
// all come from it), and changed through updateProfile (If-Match, redone on top of a save made
// meanwhile at another station), after which the viewer follows what the server kept.
import { useCallback, useEffect, useState } from 'react';
import { EMPTY_PROFILE, getProfile, updateProfile, type ConsoleProfile } from '../api';
import { describeError } from './series';

export interface ViewerProfile {
  /** Undefined until read; the defaults when it could not be read (the viewer works without it). */
  profile: ConsoleProfile | undefined;
  /** Why the profile could not be read, if it could not. */
  error: string;
  /** Saves `change` of the stored profile; resolves to what the server kept. */
  update: (change: (profile: ConsoleProfile) => ConsoleProfile) => Promise<ConsoleProfile>;
}

export function useViewerProfile(): ViewerProfile {
  const [profile, setProfile] = useState<ConsoleProfile | undefined>();
  const [error, setError] = useState('');

  useEffect(() => {
    let cancelled = false;
    getProfile().then((p) => { if (!cancelled) setProfile(p); }, (e: unknown) => {
      if (cancelled) return;
      setError(describeError(e));
      setProfile(EMPTY_PROFILE);
    });
    return () => { cancelled = true; };
  }, []);

  const update = useCallback(async (change: (profile: ConsoleProfile) => ConsoleProfile) => {
    const saved = await updateProfile(change);
    setProfile(saved);
    return saved;
  }, []);

  return { profile, error, update };
}
