import { useEffect, useRef } from 'react';
import type { SlotView } from '../../common/slot-state.js';
import { cueFor, type Cue } from './sound-cues.js';

/**
 * Sounds a line worker hears without looking: a rising two-tone chirp when a board passes (its
 * label waits or it is done), a low double buzz when a slot fails or a wrong label is scanned.
 * Synthesised with WebAudio (no files to ship); muted with the toggle, remembered per browser.
 */

const MUTE_KEY = 'flashline.muted';

export function loadMuted(): boolean {
  try {
    return window.localStorage.getItem(MUTE_KEY) === '1';
  } catch {
    return false;
  }
}

export function saveMuted(muted: boolean): void {
  try {
    window.localStorage.setItem(MUTE_KEY, muted ? '1' : '0');
  } catch {
    // private mode: the toggle still works for this page
  }
}

let context: AudioContext | null = null;

function tone(ctx: AudioContext, frequency: number, start: number, seconds: number, type: OscillatorType): void {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = type;
  osc.frequency.value = frequency;
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.25, start + 0.01);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
  osc.connect(gain).connect(ctx.destination);
  osc.start(start);
  osc.stop(start + seconds + 0.02);
}

export function play(cue: Cue): void {
  try {
    context ??= new AudioContext();
    const t = context.currentTime;
    if (cue === 'pass') {
      tone(context, 880, t, 0.12, 'sine');
      tone(context, 1320, t + 0.13, 0.16, 'sine');
    } else {
      tone(context, 160, t, 0.22, 'square');
      tone(context, 160, t + 0.3, 0.22, 'square');
    }
  } catch {
    // no audio device: the screen still says it
  }
}

export function useSlotSounds(slots: readonly SlotView[] | undefined, muted: boolean, player: (cue: Cue) => void = play): void {
  const previous = useRef(new Map<string, SlotView['state']>());
  useEffect(() => {
    if (!slots) return;
    for (const slot of slots) {
      const cue = cueFor(previous.current.get(slot.id), slot.state);
      if (cue && !muted) player(cue);
      previous.current.set(slot.id, slot.state);
    }
  }, [slots, muted, player]);
}
