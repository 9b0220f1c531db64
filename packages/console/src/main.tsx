// The reading console: login, study list, viewer, MPR. Client-side routes that Loire answers
// with this same page (server http/console.ts): /login, / (study list), /viewer?StudyInstanceUIDs=…,
// /mpr?StudyInstanceUIDs=…&SeriesInstanceUIDs=… (MPR of one series)
import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { me, logout, type Account } from './api';
import { initCornerstone, warmViewerEngine } from './cornerstone';
import { LoginPage } from './LoginPage';
import { MprView } from './MprView';
import { StudyList } from './StudyList';
import { Viewer } from './Viewer';
import './styles.css';

export type Navigate = (url: string) => void;

function App() {
  const [location, setLocation] = useState(() => window.location.pathname + window.location.search);
  const [account, setAccount] = useState<Account | null | undefined>(undefined);
  const [sessionError, setSessionError] = useState('');

  const navigate = useCallback<Navigate>((url) => {
    window.history.pushState(null, '', url);
    setLocation(url);
  }, []);

  useEffect(() => {
    const onPop = () => setLocation(window.location.pathname + window.location.search);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    me().then((a) => setAccount(a ?? null), (error: Error) => { setAccount(null); setSessionError(error.message); });
  }, []);

  // Once someone is logged in, the image display starts in the background (rendering context,
  // decoder workers), so that opening a study does not wait for it.
  // The viewer's engine is prepared too, except for the MPR page, which has its own.
  useEffect(() => {
    if (!account) return;
    const prepare = window.location.pathname === '/mpr' ? initCornerstone() : warmViewerEngine();
    void prepare.catch(() => undefined); // the viewer reports a failure when it needs it
  }, [account]);

  const url = new URL(location, window.location.origin);
  if (account === undefined) return <div className="centered">Loading…</div>;
  if (account === null || url.pathname === '/login') {
    // After login, go where the user was headed (e.g. a study link from the RIS).
    const next = url.pathname === '/login' ? (url.searchParams.get('next') ?? '/') : location;
    return (
      <LoginPage
        initialError={sessionError}
        onLoggedIn={(a) => {
          setAccount(a);
          navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/');
        }}
      />
    );
  }
  const onLogout = async () => {
    await logout();
    setAccount(null);
    navigate('/login');
  };
  const header = (
    <header className="topbar">
      <a href="/" className="brand" onClick={(e) => { e.preventDefault(); navigate('/'); }}>Loire</a>
      <span className="spacer" />
      <span className="user" data-testid="user">{account.username}</span>
      <button type="button" onClick={onLogout}>Log out</button>
    </header>
  );
  if (url.pathname === '/mpr') {
    const studyUid = url.searchParams.get('StudyInstanceUIDs')?.split(',')[0] ?? '';
    const seriesUid = url.searchParams.get('SeriesInstanceUIDs')?.split(',')[0] ?? '';
    return <div className="app">{header}<MprView key={`${studyUid}/${seriesUid}`} studyUid={studyUid} seriesUid={seriesUid} navigate={navigate} /></div>;
  }
  if (url.pathname === '/viewer') {
    const studyUid = url.searchParams.get('StudyInstanceUIDs')?.split(',')[0] ?? '';
    return <div className="app">{header}<Viewer studyUid={studyUid} navigate={navigate} /></div>;
  }
  return <div className="app">{header}<StudyList navigate={navigate} /></div>;
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
