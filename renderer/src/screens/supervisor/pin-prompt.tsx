import { useState, type FormEvent, type ReactElement } from 'react';

export function PinPrompt({ onSubmit, error }: { onSubmit: (pin: string) => void; error: string | null }): ReactElement {
  const [pin, setPin] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(pin);
    setPin('');
  };
  return (
    <form className="pin-prompt" onSubmit={submit} aria-label="Supervisor login">
      <label htmlFor="supervisor-pin">Supervisor PIN</label>
      <input
        id="supervisor-pin"
        data-testid="supervisor-pin"
        type="password"
        inputMode="numeric"
        autoComplete="off"
        pattern="[0-9]{4,12}"
        value={pin}
        onChange={(e) => setPin(e.target.value)}
        autoFocus
      />
      <button type="submit" disabled={pin.length < 4}>
        Unlock
      </button>
      {error ? (
        <p role="alert" data-testid="supervisor-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
